"""The turns of the conversations worth a designer's look, and what each one shows.

A turn is a customer's message and what the assistant did with it. It is worth a look when
the NLU was unsure (`nlu_fallback`, or an intent under `LOW_CONFIDENCE`), when the knowledge
base could not answer it, when the customer sounded unhappy (SentimentAnalyzer's
`negative`), when the conversation went to a person right after it, or when the customer
rated the conversation badly after it. The inbox index derives these rows from each
conversation as it changes (`review_rows`); `turn_of` reads one turn back from its
conversation with everything the review page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parlez.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    Event,
    FeedbackGiven,
    KnowledgeMissed,
    UserUttered,
)
from parlez.tracker import DialogueStateTracker

#: an intent the NLU is less sure of than this is worth a look
LOW_CONFIDENCE = 0.6
#: a rating at or under this is a bad one
BAD_RATING = 2


class Reason:
    FALLBACK = "fallback"
    LOW_CONFIDENCE = "low_confidence"
    KNOWLEDGE_MISS = "knowledge_miss"
    NEGATIVE = "negative"
    HANDOFF = "handoff"
    BAD_RATING = "bad_rating"


#: what the review page calls each reason
REASONS = {
    Reason.FALLBACK: "not understood",
    Reason.LOW_CONFIDENCE: "unsure",
    Reason.KNOWLEDGE_MISS: "knowledge base could not answer",
    Reason.NEGATIVE: "unhappy",
    Reason.HANDOFF: "went to a person",
    Reason.BAD_RATING: "rated badly",
}


def _turns(events: list[Event]) -> list[tuple[UserUttered, list[Event]]]:
    """Each typed customer message and the events after it, up to the next one."""
    turns: list[tuple[UserUttered, list[Event]]] = []
    for event in events:
        if isinstance(event, UserUttered):
            turns.append((event, []))
        elif turns:
            turns[-1][1].append(event)
    # A button's payload ("/ask_hours") was not understood by anyone: it was pressed.
    return [(u, after) for u, after in turns if u.text and not u.text.startswith("/")]


def reasons_of(message: UserUttered, after: list[Event]) -> list[str]:
    reasons = []
    intent = message.intent_name or ""
    confidence = message.intent.get("confidence")
    if intent == "nlu_fallback":
        reasons.append(Reason.FALLBACK)
    elif isinstance(confidence, int | float) and confidence < LOW_CONFIDENCE:
        reasons.append(Reason.LOW_CONFIDENCE)
    if any(isinstance(e, KnowledgeMissed) for e in after):
        reasons.append(Reason.KNOWLEDGE_MISS)
    sentiment = message.parse_data.get("sentiment")
    if isinstance(sentiment, dict) and sentiment.get("label") == "negative":
        reasons.append(Reason.NEGATIVE)
    if any(isinstance(e, ConversationPaused) for e in after):
        reasons.append(Reason.HANDOFF)
    if any(isinstance(e, FeedbackGiven) and e.rating <= BAD_RATING for e in after):
        reasons.append(Reason.BAD_RATING)
    return reasons


def _confidence(message: UserUttered) -> float:
    confidence = message.intent.get("confidence")
    return float(confidence) if isinstance(confidence, int | float) else 0.0


def review_rows(sender_id: str, tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """The conversation's turns worth a look, as rows of the review table."""
    rows = []
    for message, after in _turns(tracker.events):
        reasons = reasons_of(message, after)
        if reasons:
            rows.append(
                {
                    "sender_id": sender_id,
                    "at": message.timestamp,
                    "text": (message.text or "")[:2000],
                    "intent": (message.intent_name or "")[:255],
                    "confidence": _confidence(message),
                    "reasons": ",".join(reasons),
                }
            )
    return rows


@dataclass(frozen=True)
class ReviewRow:
    """A turn in the review queue."""

    sender_id: str
    at: float
    text: str
    intent: str
    confidence: float
    reasons: list[str]
    #: what came of its review, if it was reviewed ("reviewed", "example:<intent>")
    outcome: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class Turn(ReviewRow):
    """One turn as the review page shows it: its row, and what the assistant made of it."""

    #: the other intents the NLU considered: (name, confidence)
    ranking: list[tuple[str, float]] = field(default_factory=list)
    #: (entity, value, extractor)
    entities: list[tuple[str, str, str]] = field(default_factory=list)
    #: the entities found in the text's own words, as "start:end:entity" marks (the review
    #: page's marks start from these)
    marks: str = ""
    #: what the assistant did: (action, policy, confidence)
    actions: list[tuple[str, str, float]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def turn_of(tracker: DialogueStateTracker, at: float) -> Turn | None:
    """The turn whose customer message was sent at `at`, with what the page shows."""
    for message, after in _turns(tracker.events):
        if abs(message.timestamp - at) > 1e-6:
            continue
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in message.parse_data.get("intent_ranking") or []
            if isinstance(r, dict) and r.get("name") != message.intent_name
        ][:5]
        entities = [
            (str(e.get("entity")), str(e.get("value")), str(e.get("extractor") or ""))
            for e in message.entities
            if isinstance(e, dict)
        ]
        text = message.text or ""
        marks = ",".join(
            f"{e['start']}:{e['end']}:{e['entity']}"
            for e in message.entities
            if isinstance(e, dict)
            and isinstance(e.get("start"), int)
            and isinstance(e.get("end"), int)
            and 0 <= e["start"] < e["end"] <= len(text)
            and e.get("entity")
        )
        actions = [
            (e.action_name or "", e.policy or "", float(e.confidence or 0.0))
            for e in after
            if isinstance(e, ActionExecuted) and e.action_name != "action_listen"
        ]
        said, sources = [], []
        for event in after:
            if isinstance(event, BotUttered):
                if event.text:
                    said.append(event.text)
                custom = event.data.get("custom")
                for source in (
                    (custom or {}).get("sources") or [] if isinstance(custom, dict) else []
                ):
                    if isinstance(source, dict):
                        sources.append(str(source.get("title") or source.get("id") or ""))
        return Turn(
            tracker.sender_id,
            message.timestamp,
            message.text or "",
            message.intent_name or "",
            _confidence(message),
            reasons_of(message, after),
            ranking=ranking,
            entities=entities,
            marks=marks,
            actions=actions,
            said=said,
            sources=sources,
        )
    return None
