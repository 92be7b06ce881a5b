"""The customers' pages: every contact, and one contact's journey across channels, with
merges by hand and their undo (`/console/customers`)."""

from __future__ import annotations

import hmac
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.audience_sync import AudienceSync
from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.contacts import Contact, ContactBook
from parlez.console.forget import ForgetError, assistant_forgetting, forget_customer
from parlez.console.marketing import MarketingConfig
from parlez.console.pages import agent_of, console, console_index, render
from parlez.console.roles import Capability
from parlez.console.segments import Segment
from parlez.console.spreadsheet import csv_download

logger = logging.getLogger(__name__)


def book_of(request: Request) -> ContactBook:
    return ContactBook(console_index(request).engine)


def _json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.title,
        "first_seen": contact.first_seen,
        "last_seen": contact.last_seen,
        "identifiers": [{"kind": k, "value": v} for k, v in contact.identifiers],
        "conversations": contact.conversations,
        "consent": contact.consent,
        "consent_at": contact.consent_at,
        "consent_wording": contact.consent_wording,
    }


@console.get("/customers")
@requires(Capability.READ)
async def customers_page(request: Request) -> HTTPResponse:
    """Every customer, seen most recently first; `q` finds a name, address or number."""
    await console_index(request).catch_up_reports()
    words = str(request.args.get("q") or "")[:200]
    try:
        before = float(request.args["before"][0]) if "before" in request.args else None
    except ValueError:
        return response.json({"error": "'before' is a time, as the next page's link gives"}, 400)
    segments = _segments(request)
    segment = segments.get(str(request.args.get("segment") or ""))
    if request.args.get("segment") and segment is None:
        return response.json({"error": "no such segment in marketing.yml"}, status=400)
    within = segment.query() if segment is not None else None
    found = await book_of(request).search(words, before, within)
    if wants_json(request):
        return response.json({"customers": [_json(c) for c in found]})
    sync: AudienceSync | None = getattr(request.app.ctx, "audience_sync", None)
    return await render(
        "customers.html",
        request,
        customers=found,
        q=words,
        segments=list(segments.values()),
        segment=segment,
        sync=sync,
        members=await sync.counts() if sync is not None else 0,
        problem=getattr(request.app.ctx, "marketing_problem", None),
        synced=request.args.get("synced"),
    )


def _segments(request: Request) -> dict[str, Segment]:
    config: MarketingConfig | None = getattr(request.app.ctx, "marketing", None)
    return {s.name: s for s in config.segments} if config is not None else {}


@console.get("/customers.csv")
@requires(Capability.SETTINGS)
async def customers_csv(request: Request) -> HTTPResponse:
    """Every customer (or a segment's), for a spreadsheet or another marketing tool: their
    addresses and numbers, their answer to the marketing question, when last seen."""
    await console_index(request).catch_up_reports()
    name = str(request.args.get("segment") or "")
    segment = _segments(request).get(name)
    if name and segment is None:
        return response.json({"error": "no such segment in marketing.yml"}, status=400)
    found = await book_of(request).search(
        within=segment.query() if segment is not None else None, limit=None
    )
    rows = [
        [
            c.id,
            c.name,
            " ".join(v for k, v in c.identifiers if k == "email"),
            " ".join(v for k, v in c.identifiers if k == "phone"),
            "" if c.consent is None else ("yes" if c.consent else "no"),
            _iso(c.consent_at),
            _iso(c.last_seen),
            c.conversations,
        ]
        for c in found
    ]
    await database_of(request).record(
        request.ctx.session.user, "export_customers", name or "all", f"{len(found)} customers"
    )
    return csv_download(CSV_COLUMNS, rows, f"parlez-customers-{name or 'all'}.csv")


CSV_COLUMNS = (
    "customer",
    "name",
    "emails",
    "phones",
    "consent",
    "consent_at",
    "last_seen",
    "conversations",
)


def _iso(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


@console.post("/customers/sync")
@requires(Capability.SETTINGS)
async def sync_route(request: Request) -> HTTPResponse:
    """Send the e-mail platform what changed now, without waiting for the next sync."""
    sync: AudienceSync | None = getattr(request.app.ctx, "audience_sync", None)
    if sync is None:
        return response.json(
            {"error": "no e-mail marketing platform: marketing.yml names none"}, status=409
        )
    result = await sync.sync()
    await database_of(request).record(
        request.ctx.session.user, "sync_audience", sync.platform, f"{result.sent} sent"
    )
    if wants_json(request):
        return response.json(vars(result))
    query = urlencode({"synced": f"synced: {result.sent} sent, {result.failed} failed"})
    return response.redirect(f"/console/customers?{query}", status=303)


@console.get("/customers/<contact_id:int>")
@requires(Capability.READ)
async def customer_page(request: Request, contact_id: int) -> HTTPResponse:
    """The customer, what identifies them, and every conversation they had, on any
    channel, in time order with what came of it."""
    await console_index(request).catch_up_reports()
    book = book_of(request)
    contact, moved_to = await book.find(contact_id)
    if contact is None:
        if moved_to is not None:
            return response.redirect(f"/console/customers/{moved_to}", status=302)
        return response.json({"error": f"there is no customer {contact_id}"}, status=404)
    journey = await book.journey(contact.id)
    if wants_json(request):
        sent = await request.app.ctx.follow_ups.of_contact(contact.id)
        return response.json(
            {
                "customer": _json(contact),
                "journey": [vars(t) for t in journey],
                "follow_ups": [vars(f) for f in sent],
            }
        )
    return await render(
        "customer.html",
        request,
        contact=contact,
        journey=journey,
        conversations=await book.conversations(contact.id),
        merges=await book.merges(contact.id),
        follow_ups=await request.app.ctx.follow_ups.of_contact(contact.id),
        error=request.args.get("error"),
    )


@console.post("/customers/<contact_id:int>/merge")
@requires(Capability.ANSWER)
async def merge_route(request: Request, contact_id: int) -> HTTPResponse:
    """Merge another customer into this one: `other` is their number in the console, or
    an e-mail address or phone number of theirs."""
    book = book_of(request)
    other_field = form_field(request, "other").strip()
    other = None
    if other_field.isdigit():
        other, _ = await book.find(int(other_field))
    if other is None:
        other = await book.by_identifier(other_field)
    problem = None
    if other is None:
        problem = f"no customer is known by '{other_field}'"
    elif other.id == contact_id:
        problem = "that is this customer already"
    else:
        user = request.ctx.session.user
        merged = await book.merge(contact_id, other.id, by=user.email)
        if merged is None:
            problem = "one of the two customers was merged or removed meanwhile"
        else:
            await database_of(request).record(
                user, "merge_customers", str(contact_id), str(other.id)
            )
            if wants_json(request):
                return response.json({"merge": merged, "kept": contact_id, "merged": other.id})
            return response.redirect(f"/console/customers/{contact_id}", status=303)
    if wants_json(request):
        return response.json({"error": problem}, status=400)
    query = urlencode({"error": problem})
    return response.redirect(f"/console/customers/{contact_id}?{query}", status=303)


@console.post("/customers/merges/<merge_id:int>/undo")
@requires(Capability.ANSWER)
async def undo_route(request: Request, merge_id: int) -> HTTPResponse:
    """Give a merged customer back what the merge by hand moved."""
    undone = await book_of(request).undo(merge_id)
    if undone is None:
        return response.json(
            {
                "error": "no merge by hand to undo with that number (merges because an "
                "identifier matched stay)"
            },
            status=404,
        )
    await database_of(request).record(
        request.ctx.session.user, "unmerge_customers", str(undone.kept), str(undone.merged)
    )
    if wants_json(request):
        return response.json({"undone": merge_id, "kept": undone.kept, "restored": undone.merged})
    return response.redirect(f"/console/customers/{undone.kept}", status=303)


@console.post("/customers/<contact_id:int>/forget")
@requires(Capability.SETTINGS)
async def forget_route(request: Request, contact_id: int) -> HTTPResponse:
    """Forget the customer for good (their right to be forgotten): `confirm=yes` needed."""
    if form_field(request, "confirm") != "yes":
        return response.json(
            {"error": "forgetting a customer cannot be undone: send confirm=yes"}, status=400
        )
    sync: AudienceSync | None = getattr(request.app.ctx, "audience_sync", None)
    agent = agent_of(request)
    try:
        forgotten = await forget_customer(
            console_index(request),
            contact_id,
            agent.replace,
            sync.audience if sync is not None else None,
            assistant_forgetting(agent.tracker_store, agent.custom_actions, agent.domain),
        )
    except ForgetError as error:
        logger.error("%s %s", error.code, error)
        problem = f"{error.code} {error.message}; {error.hint}"
        if wants_json(request):
            return response.json({"error": problem}, status=502)
        return response.redirect(
            f"/console/customers/{contact_id}?{urlencode({'error': problem})}", status=303
        )
    if forgotten is None:
        return response.json({"error": f"there is no customer {contact_id}"}, status=404)
    await database_of(request).record(
        request.ctx.session.user,
        "forget_customer",
        f"customer {contact_id}",
        f"{forgotten.conversations} conversations",
    )
    if wants_json(request):
        return response.json(vars(forgotten))
    note = f"customer {contact_id} and {forgotten.conversations} conversations forgotten"
    if forgotten.platform_problem:
        note += (
            f"; the e-mail platform's member must be deleted by hand ({forgotten.platform_problem})"
        )
    return response.redirect(f"/console/customers?{urlencode({'synced': note})}", status=303)


def _webhook_sync(request: Request, secret: str) -> AudienceSync | HTTPResponse:
    """The sync whose `webhook_secret` the address carries (Mailchimp signs nothing)."""
    sync: AudienceSync | None = getattr(request.app.ctx, "audience_sync", None)
    if sync is None or not sync.webhook_secret:
        return response.json({"error": "not found"}, status=404)
    if not hmac.compare_digest(secret.encode(), sync.webhook_secret.encode()):
        return response.json({"error": "forbidden"}, status=403)
    return sync


@console.get("/marketing/mailchimp/<secret:str>")
async def mailchimp_webhook_check(request: Request, secret: str) -> HTTPResponse:
    """Mailchimp checks the address with a GET before it calls it."""
    found = _webhook_sync(request, secret)
    return found if isinstance(found, HTTPResponse) else response.text("")


@console.post("/marketing/mailchimp/<secret:str>")
async def mailchimp_webhook(request: Request, secret: str) -> HTTPResponse:
    """Mailchimp's webhook: a member who unsubscribed (from a link in an e-mail) has their
    answer recorded, so that no sync subscribes them again."""
    sync = _webhook_sync(request, secret)
    if isinstance(sync, HTTPResponse):
        return sync
    form: Any = request.get_form(keep_blank_values=True) or {}
    kind = str(form.get("type") or "")
    email = str(form.get("data[email]") or "")
    if kind == "unsubscribe" and email:
        at = _fired_at(str(form.get("fired_at") or ""))
        reason = str(form.get("data[reason]") or "")
        wording = f"unsubscribed in {sync.platform}" + (f" ({reason})" if reason else "")
        await book_of(request).unsubscribed(email, at, wording)
    return response.json({"received": kind})


def _fired_at(text: str) -> float:
    """Mailchimp's `fired_at` (`2026-12-05 10:31:02`, UTC); now when it cannot be read."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return time.time()
