"""The reports' page, its JSON and its CSV export: `/console/reports`."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez import metrics
from parlez.console.analytics.config import FILE, AnalyticsConfig, business_zone
from parlez.console.analytics.report import Report, ReportFilters, build_report, dimensions
from parlez.console.analytics.roi import RoiReport, build_roi
from parlez.console.auth import database_of, form_field, posted_file, requires, wants_json
from parlez.console.common_questions import CommonQuestion, common_questions
from parlez.console.facebook_page import PagePostError
from parlez.console.marketing import MarketingConfig
from parlez.console.pages import console, console_index, render, state_of
from parlez.console.roles import Capability
from parlez.console.spreadsheet import csv_download
from parlez.exceptions import ParlezError
from parlez.io.edit import digest_of, replace_if_unchanged

logger = logging.getLogger(__name__)

#: the columns of the CSV export of the time series
SERIES_COLUMNS = (
    "period",
    "conversations",
    "resolved",
    "resolution_rate",
    "handed_over",
    "incoming",
    "outgoing",
    "rated",
    "csat",
)


async def _report(request: Request) -> Report | HTTPResponse:
    """The report the query asks for, with what the index has counted so far (a request
    waits for a few batches at most); a 400 for a bad query."""
    index = console_index(request)
    zone = index.analytics.zone
    args = {key: request.args.get(key, "") for key in request.args}
    try:
        filters = ReportFilters.parse(args, datetime.now(zone).date())
    except ValueError as error:
        return response.json({"error": str(error)}, status=400)
    complete = await index.catch_up_reports()
    async with index.engine.connect() as connection:
        found = await build_report(connection, filters, zone)
    found.complete = complete
    return found


@console.get("/reports")
@requires(Capability.REPORTS)
async def reports_page(request: Request) -> HTTPResponse:
    found = await _report(request)
    if isinstance(found, HTTPResponse):
        return found
    if wants_json(request):
        return response.json(found.as_json())
    index = console_index(request)
    async with index.engine.connect() as connection:
        offered = await dimensions(connection)
    return await render(
        "reports.html",
        request,
        report=found,
        offered=offered,
        labels=(await index.choices())["labels"],
        config=index.analytics,
        problem=getattr(request.app.ctx, "analytics_problem", None),
        service=metrics.service_figures(),
        query=found.filters.query(),
    )


@console.get("/reports.json")
@requires(Capability.REPORTS)
async def reports_json(request: Request) -> HTTPResponse:
    found = await _report(request)
    if isinstance(found, HTTPResponse):
        return found
    return response.json(found.as_json())


@console.get("/reports.csv")
@requires(Capability.REPORTS)
async def reports_csv(request: Request) -> HTTPResponse:
    """The time series, one row per period, for a spreadsheet."""
    found = await _report(request)
    if isinstance(found, HTTPResponse):
        return found
    rows = [
        [
            period.start,
            period.conversations,
            period.resolved,
            _number(period.resolved / period.conversations if period.conversations else None),
            period.handed_over,
            period.incoming,
            period.outgoing,
            period.rated,
            _number(period.csat),
        ]
        for period in found.series
    ]
    name = f"parlez-report-{found.filters.since}-{found.filters.until}.csv"
    return csv_download(SERIES_COLUMNS, rows, name)


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"


# ---- what the reports count: analytics.yml, edited in the console ----------------------------


def _rules_file(request: Request) -> Path:
    return state_of(request).project / FILE


@console.get("/reports/rules")
@requires(Capability.SETTINGS)
async def rules_page(request: Request) -> HTTPResponse:
    path = _rules_file(request)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return await _rules(request, text, digest_of(text), saved=bool(request.args.get("saved")))


@console.post("/reports/rules")
@requires(Capability.SETTINGS)
async def save_rules(request: Request) -> HTTPResponse:
    """Check the new analytics.yml as the server will read it, write it if it is still the
    file the page showed, and count every conversation again with it."""
    path = _rules_file(request)
    text, expected = posted_file(request)
    project = state_of(request).project
    try:
        config = AnalyticsConfig.from_text(text, business_zone(project))
    except ParlezError as error:
        return await _rules(request, text, expected, error=str(error), status=400)
    if not replace_if_unchanged(path, text, expected):
        problem = f"{FILE} changed since this page was opened: reload it to see the change"
        return await _rules(request, text, expected, error=problem, status=409)
    index = console_index(request)
    recount = config.digest != index.analytics.digest
    index.analytics = config
    request.app.ctx.analytics_problem = None
    served = state_of(request)
    served.ask_rating_after = config.ask_rating_after
    if served.agent is not None:
        served.fit(served.agent)
    await database_of(request).record(request.ctx.session.user, "analytics_rules", FILE, "")
    running = getattr(request.app.ctx, "console_indexing", None)
    if recount and (running is None or running.done()):
        # Counted again in the background, from the start (a catch-up under way notices).
        request.app.ctx.console_indexing = asyncio.create_task(index.keep_up())
    if wants_json(request):
        return response.json({"saved": FILE, "recounting": recount})
    return response.redirect("/console/reports/rules?saved=1", status=303)


async def _rules(
    request: Request,
    text: str,
    digest: str,
    saved: bool = False,
    error: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    if error is not None and wants_json(request):
        return response.json({"error": error}, status=status)
    index = console_index(request)
    return await render(
        "report_rules.html",
        request,
        status,
        text=text,
        digest=digest,
        saved=saved,
        error=error,
        config=index.analytics,
    )


# ---- the questions customers ask most, for social posts ----------------------------------

QUESTION_COLUMNS = ("topic", "intent", "entry", "asked", "examples", "answer", "url")


async def _questions(request: Request) -> list[CommonQuestion] | HTTPResponse:
    try:
        days = int(request.args.get("days") or 30)
        limit = int(request.args.get("limit") or 50)
    except ValueError:
        return response.json({"error": "'days' and 'limit' are whole numbers"}, status=400)
    if not 1 <= days <= 366 or not 1 <= limit <= 500:
        return response.json({"error": "'days' is 1 to 366, 'limit' 1 to 500"}, status=400)
    return await common_questions(console_index(request), days, limit)


@console.get("/reports/questions.json")
@requires(Capability.REPORTS)
async def questions_json(request: Request) -> HTTPResponse:
    """The questions asked most, with the assistant's answers (`days`, `limit`)."""
    found = await _questions(request)
    if isinstance(found, HTTPResponse):
        return found
    return response.json({"questions": [q.as_json() for q in found]})


@console.get("/reports/questions.csv")
@requires(Capability.REPORTS)
async def questions_csv(request: Request) -> HTTPResponse:
    found = await _questions(request)
    if isinstance(found, HTTPResponse):
        return found
    rows = []
    for question in found:
        row = question.as_json()
        row["examples"] = " | ".join(row["examples"])
        rows.append([row[column] for column in QUESTION_COLUMNS])
    return csv_download(QUESTION_COLUMNS, rows, "parlez-common-questions.csv")


async def _roi(request: Request) -> tuple[RoiReport, int] | HTTPResponse:
    """The ROI report over the last `days` (30 by default); a 400 for a bad query."""
    try:
        days = int(request.args.get("days") or 30)
    except ValueError:
        return response.json({"error": "'days' is a whole number"}, status=400)
    if not 1 <= days <= 366:
        return response.json({"error": "'days' is 1 to 366"}, status=400)
    index = console_index(request)
    await index.catch_up_reports()
    until = time.time()
    async with index.engine.connect() as connection:
        found = await build_roi(connection, index.analytics.roi, until - days * 86400, until)
    return found, days


@console.get("/reports/roi")
@console.get("/reports/roi.json", name="roi_json")
@requires(Capability.REPORTS)
async def roi_page(request: Request) -> HTTPResponse:
    """Conversions after a chat and what the assistant is worth (as JSON at `roi.json`)."""
    found = await _roi(request)
    if isinstance(found, HTTPResponse):
        return found
    report, days = found
    if wants_json(request) or request.path.endswith(".json"):
        return response.json({"days": days, **report.as_json()})
    config = console_index(request).analytics.roi
    return await render("report_roi.html", request, report=report, days=days, config=config)


@console.get("/reports/questions")
@requires(Capability.REPORTS)
async def questions_page(request: Request) -> HTTPResponse:
    """The questions asked most with their answers; each can be posted to the business's
    Facebook Page as an FAQ (owners and admins, when marketing.yml names the Page)."""
    found = await _questions(request)
    if isinstance(found, HTTPResponse):
        return found
    marketing: MarketingConfig = request.app.ctx.marketing
    return await render(
        "report_questions.html",
        request,
        questions=[q.as_json() for q in found],
        page=marketing.facebook_page,
        posted=request.args.get("posted"),
        error=request.args.get("error"),
    )


@console.post("/reports/questions/post")
@requires(Capability.SETTINGS)
async def post_question(request: Request) -> HTTPResponse:
    """Post an FAQ (`message`, and `link` to the answer's page) on the Facebook Page."""
    marketing: MarketingConfig = request.app.ctx.marketing
    if marketing.facebook_page is None:
        return response.json(
            {"error": "no Facebook Page: marketing.yml names none (facebook_page:)"}, status=409
        )
    message = form_field(request, "message").replace("\r\n", "\n").strip()
    link = form_field(request, "link").strip()
    if not message:
        return response.json({"error": "the post needs its text"}, status=400)
    if link and not link.startswith(("https://", "http://")):
        return response.json({"error": "the link is an http(s) address"}, status=400)
    try:
        post_id = await marketing.facebook_page.post(message, link)
    except PagePostError as error:
        logger.error("%s %s", error.code, error)
        query = urlencode({"error": str(error)})
        if wants_json(request):
            return response.json({"error": str(error)}, status=502)
        return response.redirect(f"/console/reports/questions?{query}", status=303)
    await database_of(request).record(request.ctx.session.user, "post_faq", post_id, message[:200])
    if wants_json(request):
        return response.json({"id": post_id})
    query = urlencode({"posted": post_id})
    return response.redirect(f"/console/reports/questions?{query}", status=303)
