"""What each conversation counts for in the reports, decided from its events alone.

A conversation here is one session of a tracker (Rasa's `session_started` begins the next),
counted once the customer wrote in it: a web chat opened and never used is not one. The
definitions are the ones docs/analytics.md gives; tests/console/analytics pins each.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parlez.console.analytics.config import AnalyticsConfig, LabelRule
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    BotUttered,
    CallStep,
    ConversationPaused,
    ConversationResumed,
    Event,
    ExperimentAssigned,
    FeedbackGiven,
    KnowledgeMissed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from parlez.tracker import ACTION_SESSION_START, DialogueStateTracker

#: the slot a conversation's language is read from
LANGUAGE_SLOT = "language"
#: what the facts hold for the label rules, and the per-name counts kept in tables of their own
NOT_STORED = frozenset(
    {"outcomes", "intents", "entities", "sentiments", "texts", "arms", "hangups"}
)


@dataclass
class ConversationFacts:
    sender_id: str
    #: the session's number in its tracker, from 0
    session: int
    #: when the customer first wrote (Unix time), and its day and hour in the reports' zone
    started_at: float = 0.0
    day: str = ""
    hour: int = 0
    weekday: int = 0
    last_at: float = 0.0
    channel: str = ""
    language: str = ""
    model_id: str = ""
    #: the customer's messages, the assistant's, and a person's
    incoming: int = 0
    outgoing: int = 0
    human_messages: int = 0
    #: the customer's messages answered by a fallback action
    fallbacks: int = 0
    knowledge_questions: int = 0
    knowledge_misses: int = 0
    handed_over: bool = False
    #: a person wrote to the customer
    human: bool = False
    agent: str = ""
    #: from the handoff to a person's first message, and to the conversation's return to
    #: the assistant (resolved or handed back)
    first_response_seconds: float | None = None
    resolution_seconds: float | None = None
    rating: int | None = None
    #: the assistant answered the customer's last message, no person took part, and it was
    #: not handed over
    resolved: bool = False
    converted: bool = False
    #: phone calls (`call` events): started, ended with no person taking part, their
    #: seconds, transfers to a person, silences reprompted, messages a fallback answered
    #: during a call, and the speech-recognition confidence of what callers said (summed
    #: over `heard` messages: the reports average it)
    calls: int = 0
    contained_calls: int = 0
    call_seconds: float = 0.0
    transfers: int = 0
    no_inputs: int = 0
    no_matches: int = 0
    heard: int = 0
    heard_confidence: float = 0.0
    #: where callers hung up: the slot asked for, else the assistant's last action
    hangups: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    #: what label rules test: the customer's entities (name, value), the sentiments of
    #: their messages, and their messages in lower case
    entities: set[tuple[str, str]] = field(default_factory=set)
    sentiments: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)
    #: experiment -> the arm this conversation is in
    arms: dict[str, str] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        values = {k: v for k, v in vars(self).items() if k not in NOT_STORED}
        values["channel"] = self.channel[:64]
        values["language"] = self.language[:16]
        values["model_id"] = self.model_id[:255]
        values["agent"] = self.agent[:255]
        return values


class _Session:
    """One session being read: the facts, and what is needed to decide the rest."""

    def __init__(self, sender_id: str, number: int, language: str) -> None:
        self.facts = ConversationFacts(sender_id, number, language=language)
        self.paused_at: float | None = None
        #: the customer's latest message found no answer (a fallback, a knowledge-base miss)
        self.unanswered = False
        #: the action whose slots are being collected, and the slots it set
        self.action: str | None = None
        self.slots: dict[str, Any] = {}
        #: between a call's start and its end
        self.in_call = False


def conversation_facts(
    tracker: DialogueStateTracker, config: AnalyticsConfig
) -> list[ConversationFacts]:
    """The facts of each of the tracker's sessions the customer wrote in, oldest first."""
    sessions: list[_Session] = []
    current = _Session(tracker.sender_id, 0, "")
    language = ""
    for event in tracker.events:
        if isinstance(event, SessionStarted) and _started(current):
            _close_action(current, config)
            sessions.append(current)
            current = _Session(tracker.sender_id, len(sessions), language)
            continue
        if isinstance(event, SlotSet) and event.key == LANGUAGE_SLOT:
            language = event.value if isinstance(event.value, str) else ""
            current.facts.language = language
        _read(current, event, config)
    _close_action(current, config)
    sessions.append(current)
    return [_finish(s, config) for s in sessions if s.facts.incoming]


def _started(session: _Session) -> bool:
    """Whether anything happened in the session worth keeping apart from the next one."""
    return bool(session.facts.incoming or session.facts.outgoing or session.facts.human)


def _read(session: _Session, event: Event, config: AnalyticsConfig) -> None:
    facts = session.facts
    if isinstance(event, ActionExecuted | UserUttered | SessionStarted):
        _close_action(session, config)
    if isinstance(event, UserUttered):
        if (event.metadata or {}).get("is_external"):
            return  # a reminder or a trigger, not the customer writing
        if not facts.incoming:
            facts.started_at = event.timestamp
            facts.channel = event.input_channel or ""
            facts.model_id = str((event.metadata or {}).get("model_id") or "")
        facts.incoming += 1
        facts.last_at = event.timestamp
        session.unanswered = False
        if event.intent_name:
            facts.intents[event.intent_name] += 1
        if event.text:
            facts.texts.append(event.text.lower())
        for entity in event.entities:
            facts.entities.add((str(entity.get("entity")), str(entity.get("value"))))
        confidence = _speech_confidence(event.metadata or {})
        if confidence is not None:
            facts.heard += 1
            facts.heard_confidence += confidence
        sentiment = event.parse_data.get("sentiment")
        if isinstance(sentiment, dict) and isinstance(sentiment.get("label"), str):
            facts.sentiments.add(sentiment["label"])
    elif isinstance(event, BotUttered):
        sent_by = (event.metadata or {}).get("sent_by")
        if sent_by:
            facts.human_messages += 1
            facts.human = True
            facts.agent = facts.agent or str(sent_by)
            if facts.first_response_seconds is None and session.paused_at is not None:
                facts.first_response_seconds = max(0.0, event.timestamp - session.paused_at)
        else:
            facts.outgoing += 1
        facts.last_at = max(facts.last_at, event.timestamp)
    elif isinstance(event, ActionExecuted):
        name = event.action_name or ""
        if name in (ACTION_LISTEN, ACTION_SESSION_START):
            return
        if name in config.fallback_actions and facts.incoming and not session.unanswered:
            facts.fallbacks += 1
            facts.no_matches += session.in_call
            session.unanswered = True
        if name in config.knowledge_actions:
            facts.knowledge_questions += 1
        session.action, session.slots = name, {}
    elif isinstance(event, SlotSet):
        if session.action is not None:
            session.slots[event.key] = event.value
    elif isinstance(event, KnowledgeMissed):
        facts.knowledge_misses += 1
        session.unanswered = True
    elif isinstance(event, ConversationPaused):
        facts.handed_over = True
        if session.paused_at is None:
            session.paused_at = event.timestamp
    elif isinstance(event, ConversationResumed):
        if session.paused_at is not None and facts.resolution_seconds is None and facts.human:
            facts.resolution_seconds = max(0.0, event.timestamp - session.paused_at)
    elif isinstance(event, FeedbackGiven):
        facts.rating = int(event.rating)  # the latest rating stands
    elif isinstance(event, ExperimentAssigned):
        facts.arms[event.experiment] = event.arm
    elif isinstance(event, CallStep):
        _read_call(session, event)


def _speech_confidence(metadata: dict[str, Any]) -> float | None:
    """How sure speech recognition was of a message: Twilio's on a call, the web chat's
    engine's for its microphone; None for a message that was typed."""
    found = metadata.get("speech_confidence")
    if found is None and isinstance(metadata.get("speech"), dict):
        found = metadata["speech"].get("confidence")
    if isinstance(found, int | float) and not isinstance(found, bool) and 0 <= found <= 1:
        return float(found)
    return None


def _read_call(session: _Session, step: CallStep) -> None:
    facts = session.facts
    if step.step == "started":
        facts.calls += 1
        session.in_call = True
    elif step.step == "transfer":
        facts.transfers += 1
    elif step.step == "no_input":
        facts.no_inputs += 1
    elif step.step == "ended":
        session.in_call = False
        duration = step.details.get("duration")
        if isinstance(duration, int | float) and not isinstance(duration, bool):
            facts.call_seconds += max(0.0, float(duration))
        where = step.details.get("requested_slot") or step.details.get("last_action")
        if where:
            facts.hangups[str(where)] += 1


def _close_action(session: _Session, config: AnalyticsConfig) -> None:
    """The action whose events were being read is done: did it reach an outcome?"""
    if session.action is None:
        return
    for outcome in config.outcomes:
        if outcome.action == session.action and outcome.reached(session.slots):
            session.facts.outcomes[outcome.name] += 1
    session.action, session.slots = None, {}


def _finish(session: _Session, config: AnalyticsConfig) -> ConversationFacts:
    facts = session.facts
    local = datetime.fromtimestamp(facts.started_at, config.zone)
    facts.day = local.strftime("%Y-%m-%d")
    facts.hour = local.hour
    facts.weekday = local.weekday()
    facts.resolved = not facts.handed_over and not facts.human and not session.unanswered
    facts.converted = any(facts.outcomes[name] for name in config.converting)
    # A call is contained when nobody from the team took part in it.
    if not facts.handed_over and not facts.human and not facts.transfers:
        facts.contained_calls = facts.calls
    return facts


def _holds(rule: LabelRule, facts: ConversationFacts) -> bool:
    if rule.intents and not any(facts.intents[i] for i in rule.intents):
        return False
    if rule.entity is not None and not any(
        name == rule.entity and (rule.value is None or value == rule.value)
        for name, value in facts.entities
    ):
        return False
    if rule.keywords and not any(
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
        for word in rule.keywords
        for text in facts.texts
    ):
        return False
    if rule.sentiment is not None and rule.sentiment not in facts.sentiments:
        return False
    if rule.outcome is not None and not _reached(rule.outcome, facts):
        return False
    if rule.channels and facts.channel not in rule.channels:
        return False
    return not rule.languages or facts.language in rule.languages


def _reached(outcome: str, facts: ConversationFacts) -> bool:
    built_in = {
        "resolved": facts.resolved,
        "unresolved": not facts.resolved,
        "handed_over": facts.handed_over,
        "converted": facts.converted,
    }
    return built_in[outcome] if outcome in built_in else bool(facts.outcomes[outcome])


def session_labels(facts: ConversationFacts, config: AnalyticsConfig) -> list[str]:
    """The labels whose rules hold in this session: all of a rule's tests in it."""
    return [rule.label for rule in config.labels if _holds(rule, facts)]


def labels_of(found: list[ConversationFacts], config: AnalyticsConfig) -> set[str]:
    """The labels the rules give a conversation: those that hold in one of its sessions."""
    return {label for facts in found for label in session_labels(facts, config)}


@dataclass
class AnalyticsRows:
    """The rows of the reports' tables for a batch of conversations."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    #: outcomes, intents, experiment arms and the labels rules give, by kind and name
    counts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, tracker: DialogueStateTracker, config: AnalyticsConfig) -> None:
        for facts in conversation_facts(tracker, config):
            self.conversations.append(facts.row())
            where = {
                "sender_id": facts.sender_id,
                "session": facts.session,
                "day": facts.day,
                "channel": facts.channel[:64],
                "language": facts.language[:16],
                "model_id": facts.model_id[:255],
            }
            labelled = Counter(session_labels(facts, config))
            # what the customer named (`service=balayage`): segments of customers read it
            named_entities = Counter(f"{n}={v}"[:255] for n, v in facts.entities)
            for kind, named in (
                ("outcome", facts.outcomes),
                ("intent", facts.intents),
                ("label", labelled),
                ("hangup", facts.hangups),
                ("entity", named_entities),
            ):
                for name, count in named.items():
                    self.counts.append(
                        {**where, "kind": kind, "name": name[:255], "detail": "", "count": count}
                    )
            for experiment, arm in facts.arms.items():
                self.counts.append(
                    {
                        **where,
                        "kind": "arm",
                        "name": experiment[:255],
                        "detail": arm[:255],
                        "count": 1,
                    }
                )
