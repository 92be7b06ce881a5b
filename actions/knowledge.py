"""Answering customers' questions from the knowledge base in `data/kb/`.

The index is built by `parlez train` in `models/kb-index/` and brought up to date here when a
document changed since. With an `llm:` in endpoints.yml (and its key in the environment) the
answer is phrased by the LLM from the passages found; without one, the best passage is the
answer. Either way the sources go with it, and an unknown question gets an honest "I don't
know" and the offer of a person.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.language import language_of
from parlez.endpoints import Endpoints
from parlez.inference import infer
from parlez.knowledge.answer import KnowledgeAnswerer
from parlez.knowledge.index import open_index
from parlez.llm import ChatMessage, llm_from_endpoint

logger = logging.getLogger(__name__)

BUSINESS = "Maple Street Studio"
#: how many earlier messages of the conversation the LLM sees
HISTORY_MESSAGES = 6

_answerer: KnowledgeAnswerer | None = None


def project_folder() -> Path:
    return Path(os.environ.get("PARLEZ_PROJECT", ".")).resolve()


def answerer() -> KnowledgeAnswerer:
    """Loaded once per process: the index (updated if documents changed) and the LLM."""
    global _answerer
    if _answerer is None:
        root = project_folder()
        index = open_index(root / "data" / "kb", root / "models" / "kb-index")
        # `parlez run --endpoints FILE` names the file it serves with; else the project's.
        endpoints = Path(os.environ.get("PARLEZ_ENDPOINTS") or root / "endpoints.yml")
        llm = llm_from_endpoint(Endpoints.load(endpoints).llm)
        _answerer = KnowledgeAnswerer(index, llm, business=BUSINESS)
        logger.info(
            "knowledge base ready: %d passages, answers %s",
            len(index.passages),
            f"phrased by {type(llm).__name__}" if llm else "given as written (no LLM key)",
        )
    return _answerer


def history(tracker: Tracker) -> list[ChatMessage]:
    """The conversation before the latest message, as alternating turns."""
    turns: list[ChatMessage] = []
    for event in tracker.events[:-1]:
        if event.get("event") == "user" and event.get("text"):
            turns.append(ChatMessage("user", str(event["text"])))
        elif event.get("event") == "bot" and event.get("text"):
            turns.append(ChatMessage("assistant", str(event["text"])))
    turns = turns[-HISTORY_MESSAGES:]
    while turns and turns[0].role != "user":  # the APIs want the user to speak first
        turns.pop(0)
    return turns


#: the question each topic intent stands for: what a button's payload (`/ask_hours`) asks,
#: and what to search for when the customer's own words find nothing
PAYLOAD_QUESTIONS = {
    "ask_hours": "What are your opening hours?",
    "ask_prices": "How much do your services cost?",
    "ask_services": "Which services do you offer?",
}


#: how sure the NLU must be of a topic intent for its question to be searched
TOPIC_CONFIDENCE = 0.8

#: a question the assistant cannot answer within this many of the customer's messages after
#: another one it could not answer goes straight to a person
UNANSWERED_WINDOW = 3


def recently_unanswered(tracker: Tracker) -> bool:
    """Whether the assistant already said "I don't know" in the last few messages, and the
    customer did not turn the offer of a person down since."""
    intents: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intents.append(str((event.get("parse_data") or {}).get("intent", {}).get("name")))
            if len(intents) > UNANSWERED_WINDOW:
                return False
        elif event.get("event") == "action":
            name = event.get("name")
            if name == "utter_offer_handoff":
                return "deny" not in intents
            if name in ("action_handoff", "action_restart", "action_session_start"):
                return False
    return False


def question_of(tracker: Tracker) -> tuple[str, str | None]:
    """What the customer asked, and the question its intent stands for (if it has one)."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    intent = message.get("intent") or {}
    name = str(intent.get("name") or "")
    # Only a confident intent stands for a question: "what is 17 times 23" may come as a
    # shaky ask_prices, and must not be answered with the price list.
    sure = float(intent.get("confidence") or 0) >= TOPIC_CONFIDENCE or text.startswith("/")
    topic = PAYLOAD_QUESTIONS.get(name) if sure else None
    if text.startswith("/"):
        shown = (message.get("metadata") or {}).get("display")
        return topic or str(shown or name.replace("_", " ")), None
    return text, topic


class ActionAnswerFromKnowledgeBase(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question, topic = question_of(tracker)
        # The first call loads the index and the encoder: a second's work, off the event loop.
        # (on the models' thread: the encoder it loads runs there, parlez/inference.py)
        knowledge = _answerer or await infer(answerer)
        answer = await knowledge.answer(
            question, history(tracker), topic=topic, language=language_of(tracker)
        )
        if not answer.found:
            if recently_unanswered(tracker):
                # Twice in a row: no more offers, a person takes over (data/rules.yml).
                return [FollowupAction("utter_no_luck_handoff")]
            # utter_offer_handoff says so and offers a person; the rules take the reply.
            return [FollowupAction("utter_offer_handoff")]
        dispatcher.utter_message(text=answer.text, json_message={"sources": answer.sources})
        return []
