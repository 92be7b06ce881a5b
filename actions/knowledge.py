"""Answering customers' questions from the knowledge base in `data/kb/`.

The index is built by `parlez train` in `models/kb-index/` and brought up to date here when a
document changed since. With an `llm:` in endpoints.yml (and its key in the environment) the
answer is phrased by the LLM from the passages found; without one, the best passage is the
answer. Either way the sources go with it, and an unknown question gets an honest "I don't
know" and the offer of a person. When two entries fit the question about as well as each
other, the customer is asked which one they meant: a button for each, whose payload names
the entry (`/ask_question{"kb_entry": "<id>"}`), answered as written. When no entry is sure
enough but some come close, they are suggested the same way, next to a button for a person.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.business import BusinessSettingsError, business
from actions.language import language_of
from parlez.endpoints import Endpoints
from parlez.experiments import settings_of
from parlez.inference import infer
from parlez.knowledge import (
    Answer,
    KnowledgeAnswerer,
    entries_by_action,
    project_index,
    project_multilingual_index,
)
from parlez.llm import ChatMessage, llm_from_endpoint
from parlez.project import project_folder

logger = logging.getLogger(__name__)

#: how many earlier messages of the conversation the LLM sees
HISTORY_MESSAGES = 6

_answerer: KnowledgeAnswerer | None = None


def business_name() -> str:
    """The name the LLM speaks for, from business.yml (answers go on without the file)."""
    try:
        return business().name
    except BusinessSettingsError as error:
        logger.warning("the knowledge base answers without the business's name: %s", error)
        return "the business"


def answerer() -> KnowledgeAnswerer:
    """Loaded once per process: the index (updated if documents changed) and the LLM."""
    global _answerer
    if _answerer is None:
        root = project_folder()
        index = project_index(root)
        # `parlez run --endpoints FILE` names the file it serves with; else the project's.
        endpoints = Path(os.environ.get("PARLEZ_ENDPOINTS") or root / "endpoints.yml")
        llm = llm_from_endpoint(Endpoints.load(endpoints).llm)
        _answerer = KnowledgeAnswerer(
            index, llm, business=business_name(), multilingual=project_multilingual_index(root)
        )
        logger.info(
            "knowledge base ready: %d passages, answers %s",
            len(index.passages),
            f"phrased by {type(llm).__name__}" if llm else "given as written (no LLM key)",
        )
    return _answerer


def for_conversation(knowledge: KnowledgeAnswerer, tracker: Tracker) -> KnowledgeAnswerer:
    """The answerer as the conversation's A/B test arms set it (experiments.yml's
    `settings:`): the LLM off, another bar or margin; the project's settings otherwise."""
    settings = settings_of(project_folder(), tracker.events)
    if not settings:
        return knowledge
    bar, margin = settings.get("knowledge_min_confidence"), settings.get("knowledge_margin")
    return knowledge.variant(
        use_llm=settings.get("knowledge_llm", True),
        min_confidence=None if bar is None else float(bar),
        margin=None if margin is None else float(margin),
    )


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


#: the question each topic intent stands for: what a button's payload (`/ask_hours`) asks
PAYLOAD_QUESTIONS = {
    "ask_hours": "What are your opening hours?",
    "ask_prices": "How much do your services cost?",
    "ask_services": "Which services do you offer?",
}


#: the last button under suggested or close entries: none of them, a person instead
PERSON_BUTTON = {
    "en": "None of these: talk to a person",
    "fr": "Aucune : parler à quelqu'un",
    "de": "Keine davon: mit einem Menschen sprechen",
    "es": "Ninguna: hablar con una persona",
}


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


def question_of(
    tracker: Tracker, language: str | None = None, kb_language: str = "en"
) -> tuple[str, str | None]:
    """What the customer asked, and the question its intent stands for: a button's, or, for
    words typed in another `language` than the knowledge base's, the topic intent's question
    to search when the words find nothing."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    intent = message.get("intent") or {}
    name = str(intent.get("name") or "")
    if text.startswith("/"):
        shown = (message.get("metadata") or {}).get("display")
        return PAYLOAD_QUESTIONS.get(name) or str(shown or name.replace("_", " ")), None
    # Typed words are searched as they are: a topic's question ("How much do your services
    # cost?" for any price question) answered a dental FAQ's "price of a cleaning" with the
    # studio's price list. In another language the English encoder scores the right entry
    # under that language's bar ("combien coûte une coupe ?" 0.69 for the prices), while the
    # NLU, trained in each language, knows the topic: there it is searched next.
    foreign = bool(language) and language != kb_language
    return text, (PAYLOAD_QUESTIONS.get(name) if foreign else None)


def missed(question: str, answer: Answer) -> dict[str, Any]:
    """The event that counts a question the knowledge base could not answer (the console's
    "unanswered questions"): what was asked, how close the best entry came, and the entries
    suggested instead."""
    return {
        "event": "knowledge_miss",
        "question": question,
        "confidence": round(float(answer.confidence), 4),
        "suggested": [passage.id for passage in answer.choices],
    }


def source_for(action: str, default_id: str, title: str) -> dict[str, Any]:
    """What an answer given from business.yml cites: the knowledge-base entry that names
    `action` (FAQ `action:`), so that the conversation's sources stay the entry's whether
    the NLU or the knowledge base chose the action, with the file the figures came from."""
    entry = entries_by_action(project_folder()).get(action)
    return {
        "id": entry.id if entry else default_id,
        "title": entry.title if entry else title,
        "source": "business.yml",
        "url": None,
    }


class ActionAnswerFromKnowledgeBase(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # The first call loads the index and the encoder: a second's work, off the event loop.
        # (on the models' thread: the encoder it loads runs there, parlez/inference.py)
        knowledge = for_conversation(_answerer or await infer(answerer), tracker)
        language = language_of(tracker)
        question, topic = question_of(tracker, language, knowledge.language)
        chosen = next(tracker.get_latest_entity_values("kb_entry"), None)
        if chosen:
            answer = knowledge.entry(str(chosen), language)
        else:
            answer = await knowledge.answer(
                question, history(tracker), topic=topic, language=language
            )
        if answer.choices:
            buttons = [
                {
                    "title": passage.title,
                    "payload": "/ask_question" + json.dumps({"kb_entry": passage.id}),
                }
                for passage in answer.choices
            ]
            # The customer may have meant none of the entries: a person is the way out.
            person = PERSON_BUTTON.get(language, PERSON_BUTTON["en"])
            buttons.append({"title": person, "payload": "/request_human"})
            if answer.by == "suggestions":
                dispatcher.utter_message(response="utter_suggest_questions", buttons=buttons)
                return [missed(question, answer)]
            dispatcher.utter_message(response="utter_which_question", buttons=buttons)
            return []
        if not answer.found:
            if recently_unanswered(tracker):
                # Twice in a row: no more offers, a person takes over (data/rules.yml).
                return [missed(question, answer), FollowupAction("utter_no_luck_handoff")]
            # utter_offer_handoff says so and offers a person; the rules take the reply.
            return [missed(question, answer), FollowupAction("utter_offer_handoff")]
        if answer.action:
            if answer.action in domain.get("actions", ()):
                # The entry is answered by an action (a price from the catalogue).
                return [FollowupAction(answer.action)]
            logger.error(
                "P513 the knowledge-base entry %s names the action '%s', which the domain "
                "does not have; answering with the entry's text",
                answer.sources[0]["id"] if answer.sources else "?",
                answer.action,
            )
        dispatcher.utter_message(text=answer.text, json_message={"sources": answer.sources})
        return []
