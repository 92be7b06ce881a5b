"""What the inbox shows of a conversation (channel, customer, status, assignee, latest
message), decided from its events, and the transcript of its page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parlez.console.database import Assignment
from parlez.events import BotUttered, DeliveryReported, FeedbackGiven, UserUttered
from parlez.tracker import DialogueStateTracker

#: slots that name the customer, in the order they are trusted
NAME_SLOTS = ("customer_name", "name", "email")


class Status:
    BOT = "bot"  # the assistant is answering
    OPEN = "open"  # handed over, waiting for a person
    HUMAN = "human"  # a person has it
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Summary:
    sender_id: str
    channel: str
    customer: str
    language: str
    status: str
    assignee: str | None
    last_text: str
    last_at: float
    team: str | None = None
    #: the customer's latest rating of the conversation (1-5), if they gave one
    rating: int | None = None


@dataclass(frozen=True)
class Facts:
    """What the inbox shows of a conversation that only its events decide."""

    paused: bool
    channel: str
    customer: str
    language: str
    last_text: str
    last_at: float
    rating: int | None = None


def status_of(paused: bool, held: Assignment | None) -> str:
    if paused:
        return Status.HUMAN if held is not None and held.assignee else Status.OPEN
    if held is not None and held.status == Status.RESOLVED:
        return Status.RESOLVED
    return Status.BOT


def customer_of(tracker: DialogueStateTracker) -> str:
    for slot in NAME_SLOTS:
        value = tracker.get_slot(slot)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return tracker.sender_id


def language_of(tracker: DialogueStateTracker) -> str:
    value = tracker.get_slot("language")
    return value if isinstance(value, str) else ""


def facts(tracker: DialogueStateTracker) -> Facts:
    last = next(
        (e for e in reversed(tracker.events) if isinstance(e, UserUttered | BotUttered)), None
    )
    return Facts(
        paused=tracker.is_paused(),
        channel=tracker.latest_input_channel() or "",
        customer=customer_of(tracker),
        language=language_of(tracker),
        last_text=(last.text or "") if last is not None else "",
        # A platform's report ("read", hours later) is not the conversation moving on.
        last_at=max(
            (e.timestamp for e in tracker.events if not isinstance(e, DeliveryReported)),
            default=0.0,
        ),
        rating=next(
            (e.rating for e in reversed(tracker.events) if isinstance(e, FeedbackGiven)), None
        ),
    )


def row(sender_id: str, known: Facts, held: Assignment | None) -> Summary:
    return Summary(
        sender_id=sender_id,
        channel=known.channel,
        customer=known.customer,
        language=known.language,
        status=status_of(known.paused, held),
        assignee=held.assignee if held is not None else None,
        last_text=known.last_text,
        last_at=known.last_at,
        team=held.team if held is not None else None,
        rating=known.rating,
    )


def summary(tracker: DialogueStateTracker, held: Assignment | None) -> Summary:
    return row(tracker.sender_id, facts(tracker), held)


def _link(value: Any, kind: str = "file") -> dict[str, str] | None:
    """An image, a file or a source as the page links it: a name and a web address (other
    schemes, `javascript:` above all, are shown as text, never as a link)."""
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        return None
    payload: dict[str, Any] = value["payload"] if isinstance(value.get("payload"), dict) else {}
    url = str(
        value.get("url") or value.get("src") or payload.get("src") or payload.get("url") or ""
    )
    name = str(value.get("title") or value.get("name") or value.get("source") or url)
    if not url and not name:
        return None
    safe = url.startswith(("https://", "http://", "/"))
    if str(value.get("type") or "").startswith("image"):
        kind = "image"
    return {"name": name or url, "url": url if safe else "", "kind": kind}


def transcript(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """The messages of the conversation as the console shows them: who, what, when, the
    understanding of each customer message, and what came with a message (buttons, images,
    files, the knowledge base's sources)."""
    shown: list[dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            shown.append(
                {
                    "who": "customer",
                    "text": event.metadata.get("display") or event.text or "",
                    "at": event.timestamp,
                    "intent": event.intent_name,
                    "confidence": event.intent.get("confidence"),
                    "files": [f for f in [_link(event.metadata.get("attachment"))] if f],
                }
            )
        elif isinstance(event, BotUttered):
            sent_by = (event.metadata or {}).get("sent_by")
            custom = event.data.get("custom")
            sources = custom.get("sources") if isinstance(custom, dict) else None
            files = [_link(event.data.get("image"), "image")]
            if event.data.get("attachment") != event.data.get("image"):
                files.append(_link(event.data.get("attachment")))
            shown.append(
                {
                    "who": "person" if sent_by else "bot",
                    "sent_by": sent_by,
                    "text": event.text or "",
                    "at": event.timestamp,
                    "buttons": [b.get("title", "") for b in event.data.get("buttons") or []],
                    "files": [f for f in files if f],
                    "sources": [s for s in map(_link, sources or []) if s],
                }
            )
        elif isinstance(event, FeedbackGiven):
            shown.append(
                {
                    "who": "rating",
                    "rating": event.rating,
                    "text": event.comment or "",
                    "at": event.timestamp,
                }
            )
        elif isinstance(event, DeliveryReported) and event.failed:
            shown.append(
                {
                    "who": "notice",
                    "text": undelivered_text(event),
                    "at": event.timestamp,
                    "url": error_page(event),
                }
            )
    return shown


def undelivered_text(report: DeliveryReported) -> str:
    """What the transcript says of an answer the platform could not deliver."""
    channel = str(report.metadata.get("channel") or "the channel")
    code = f" (error {report.error})" if report.error else ""
    return f"An answer did not reach the customer: {channel} reported it {report.status}{code}."


def error_page(report: DeliveryReported) -> str:
    """Twilio's page on the error, which says what the code means and what to do."""
    if report.metadata.get("channel") == "twilio" and (report.error or "").isdigit():
        return f"https://www.twilio.com/docs/api/errors/{report.error}"
    return ""
