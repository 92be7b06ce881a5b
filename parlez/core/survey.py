"""The customer's rating of a conversation, asked on any channel: a question with five
buttons, then "anything to add?", kept as a `feedback` event.

The buttons send `/parlez_rating{"rating": 4}`: that message, and the comment that follows
the second question, are the survey's, answered here before the NLU and the policies see
them (they are not turns of the conversation a model should learn from). The questions are
the domain's `utter_ask_rating`, `utter_ask_rating_comment` and `utter_rating_thanks` when
it has them (their buttons keep these payloads), else parlez's own, in the conversation's
language (`language` slot: en, fr, de, es).
"""

from __future__ import annotations

import json
import re
from typing import Any

from parlez.events import ActionExecuted, BotUttered, Event, FeedbackGiven, UserUttered
from parlez.nlg.generator import NaturalLanguageGenerator
from parlez.tracker import ACTION_SESSION_START, DialogueStateTracker

#: channels that ask for a rating themselves (the web chat's "End the chat")
OWN_RATING = frozenset({"webchat", "socketio"})
RATING_INTENT = "parlez_rating"
SKIP_INTENT = "parlez_rating_skip"
#: the bot message's metadata that says which question it is
SURVEY_KEY = "survey"
ASK_RATING = "rating"
ASK_COMMENT = "comment"
#: the domain's responses that replace parlez's own texts
RESPONSES = {
    ASK_RATING: "utter_ask_rating",
    ASK_COMMENT: "utter_ask_rating_comment",
    "thanks": "utter_rating_thanks",
}
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        ASK_RATING: "How would you rate this conversation?",
        ASK_COMMENT: "Thank you! Anything to add? (optional)",
        "skip": "No, thanks",
        "thanks": "Thank you for your feedback!",
    },
    "fr": {
        ASK_RATING: "Comment évaluez-vous cette conversation ?",
        ASK_COMMENT: "Merci ! Quelque chose à ajouter ? (facultatif)",
        "skip": "Non, merci",
        "thanks": "Merci pour votre avis !",
    },
    "de": {
        ASK_RATING: "Wie bewerten Sie dieses Gespräch?",
        ASK_COMMENT: "Danke! Möchten Sie noch etwas hinzufügen? (optional)",
        "skip": "Nein, danke",
        "thanks": "Vielen Dank für Ihre Bewertung!",
    },
    "es": {
        ASK_RATING: "¿Cómo valora esta conversación?",
        ASK_COMMENT: "¡Gracias! ¿Algo que añadir? (opcional)",
        "skip": "No, gracias",
        "thanks": "¡Gracias por su opinión!",
    },
}
_RATING = re.compile(r"^/parlez_rating\s*(\{.*\})\s*$", re.DOTALL)
#: the longest comment kept
MAX_COMMENT = 2000


def _texts(tracker: DialogueStateTracker) -> dict[str, str]:
    language = tracker.get_slot("language")
    return TEXTS.get(language if isinstance(language, str) else "en", TEXTS["en"])


async def _message(
    kind: str,
    tracker: DialogueStateTracker,
    nlg: NaturalLanguageGenerator,
    channel: str | None,
    default: dict[str, Any],
    **metadata: Any,
) -> BotUttered:
    """The domain's response for `kind` if it has one, else parlez's text."""
    found = await nlg.generate(RESPONSES[kind], tracker, channel)
    data = found or default
    text = data.get("text") if isinstance(data.get("text"), str) else None
    rest = {k: v for k, v in data.items() if k != "text"}
    return BotUttered(text, data=rest, metadata={SURVEY_KEY: kind, **metadata})


async def rating_question(
    tracker: DialogueStateTracker, nlg: NaturalLanguageGenerator, channel: str | None
) -> BotUttered:
    """The question with five buttons, 5 (best) first."""
    buttons = [
        {"title": f"{'★' * n} {n}", "payload": f'/{RATING_INTENT}{{"rating": {n}}}'}
        for n in range(5, 0, -1)
    ]
    default = {"text": _texts(tracker)[ASK_RATING], "buttons": buttons}
    return await _message(ASK_RATING, tracker, nlg, channel, default)


def rating_due(tracker: DialogueStateTracker, after: frozenset[str], channel: str | None) -> bool:
    """Whether the assistant should ask for a rating now: it ran one of the actions `after`
    (its goodbye) since the customer's latest message, on a channel without a rating of
    its own, and has not asked in this session yet."""
    if not after or channel in OWN_RATING:
        return False
    ran = False
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START:
            break
        if isinstance(event, FeedbackGiven) or (
            isinstance(event, BotUttered) and (event.metadata or {}).get(SURVEY_KEY)
        ):
            return False  # asked, or rated, in this session already
        if isinstance(event, UserUttered) and not ran:
            return False  # most messages: no goodbye in the latest turn
        if isinstance(event, ActionExecuted) and event.action_name in after:
            ran = True
    return ran


def rating_given(text: str | None) -> int | None:
    """The rating a survey button sent, or None when the message is something else."""
    found = _RATING.match((text or "").strip())
    if found is None:
        return None
    try:
        rating = json.loads(found.group(1)).get("rating")
        value = int(rating)
    except (ValueError, TypeError, AttributeError):
        return None
    return value if 1 <= value <= 5 else None


def _last_question(tracker: DialogueStateTracker) -> BotUttered | None:
    """The bot's latest message, if it was a survey question."""
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return event if (event.metadata or {}).get(SURVEY_KEY) else None
    return None


async def survey_answer(
    tracker: DialogueStateTracker,
    text: str | None,
    nlg: NaturalLanguageGenerator,
    channel: str | None,
) -> list[Event] | None:
    """The events that answer `text` when it answers the survey (a rating button, a comment
    after "anything to add?", its skip button); None for any other message."""
    texts = _texts(tracker)
    rating = rating_given(text)
    if rating is not None:
        skip = {"title": texts["skip"], "payload": f"/{SKIP_INTENT}"}
        default = {"text": texts[ASK_COMMENT], "buttons": [skip]}
        comment = await _message(ASK_COMMENT, tracker, nlg, channel, default, rating=rating)
        return [FeedbackGiven(rating=rating), comment]
    asked = _last_question(tracker)
    if asked is None or asked.metadata.get(SURVEY_KEY) != ASK_COMMENT:
        return None
    thanks = await _message("thanks", tracker, nlg, channel, {"text": texts["thanks"]})
    said = (text or "").strip()
    if said == f"/{SKIP_INTENT}" or not said:
        return [thanks]
    if said.startswith("/"):
        return None  # another button: the conversation goes on
    rating = int(asked.metadata.get("rating") or 0)
    if not 1 <= rating <= 5:
        return None
    return [FeedbackGiven(rating=rating, comment=said[:MAX_COMMENT]), thanks]
