"""What one conversation counts for in the reports: each definition of docs/analytics.md,
pinned on events built by hand."""

from __future__ import annotations

from parlez.console.analytics.config import AnalyticsConfig, LabelRule, Outcome
from parlez.console.analytics.facts import conversation_facts, labels_of
from parlez.events import (
    ActionExecuted,
    BotUttered,
    CallStep,
    ConversationPaused,
    ConversationResumed,
    Event,
    FeedbackGiven,
    KnowledgeMissed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from parlez.tracker import DialogueStateTracker

#: 2026-03-02 09:30 UTC, a Monday
T = 1772443800.0

CONFIG = AnalyticsConfig(
    timezone="Europe/Paris",
    outcomes=(
        Outcome("booked", "action_book", sets="booking_id"),
        Outcome("cancelled", "action_cancel", clears="booking_id"),
        Outcome("lead", "action_save_lead"),
    ),
    conversions=("booked", "lead"),
    knowledge_actions=("action_answer_from_kb",),
)


def tracker(*events: Event) -> DialogueStateTracker:
    found = DialogueStateTracker("c1", [])
    for event in events:
        found.update(event)
    return found


def said(text: str, at: float, intent: str = "greet", **metadata: object) -> UserUttered:
    return UserUttered(
        text,
        intent={"name": intent, "confidence": 0.9},
        input_channel="webchat",
        timestamp=at,
        metadata=dict(metadata),
    )


def test_a_conversation_the_assistant_answered_alone_is_resolved() -> None:
    [facts] = conversation_facts(
        tracker(
            said("hello", T, model_id="20260301-a"),
            ActionExecuted("utter_greet", timestamp=T + 1),
            BotUttered("Hi!", timestamp=T + 1),
            ActionExecuted("action_listen", timestamp=T + 1),
        ),
        CONFIG,
    )
    assert (facts.incoming, facts.outgoing, facts.human_messages) == (1, 1, 0)
    assert facts.resolved and not facts.handed_over
    assert facts.channel == "webchat" and facts.model_id == "20260301-a"
    # Days and hours are the reports' time zone's: 09:30 UTC is 10:30 in Paris.
    assert (facts.day, facts.hour, facts.weekday) == ("2026-03-02", 10, 0)
    assert facts.intents == {"greet": 1}


def test_a_last_message_answered_by_a_fallback_is_not_resolved() -> None:
    [facts] = conversation_facts(
        tracker(
            said("hello", T),
            ActionExecuted("utter_greet", timestamp=T + 1),
            said("blorp", T + 10, intent="nlu_fallback"),
            ActionExecuted("action_default_fallback", timestamp=T + 11),
        ),
        CONFIG,
    )
    assert facts.fallbacks == 1 and not facts.resolved


def test_a_fallback_then_an_answer_is_resolved() -> None:
    [facts] = conversation_facts(
        tracker(
            said("blorp", T, intent="nlu_fallback"),
            ActionExecuted("action_default_fallback", timestamp=T + 1),
            said("opening hours?", T + 10, intent="ask_question"),
            ActionExecuted("action_answer_from_kb", timestamp=T + 11),
            BotUttered("9 to 6", timestamp=T + 11),
        ),
        CONFIG,
    )
    assert facts.fallbacks == 1 and facts.knowledge_questions == 1 and facts.resolved


def test_a_knowledge_base_miss_is_counted_and_leaves_the_question_unresolved() -> None:
    [facts] = conversation_facts(
        tracker(
            said("do you sell gift cards", T, intent="ask_question"),
            ActionExecuted("action_answer_from_kb", timestamp=T + 1),
            KnowledgeMissed(question="do you sell gift cards", timestamp=T + 1),
        ),
        CONFIG,
    )
    assert (facts.knowledge_questions, facts.knowledge_misses) == (1, 1)
    assert not facts.resolved


def test_a_handoff_times_the_first_response_and_the_resolution() -> None:
    [facts] = conversation_facts(
        tracker(
            said("I want a person", T, intent="human"),
            ActionExecuted("action_handoff", timestamp=T + 1),
            ConversationPaused(timestamp=T + 1),
            BotUttered("Ana here", metadata={"sent_by": "ana@shop.example"}, timestamp=T + 61),
            BotUttered("Sorted!", metadata={"sent_by": "ben@shop.example"}, timestamp=T + 100),
            ConversationResumed(timestamp=T + 301),
            FeedbackGiven(rating=5, timestamp=T + 320),
        ),
        CONFIG,
    )
    assert facts.handed_over and facts.human and not facts.resolved
    assert (facts.first_response_seconds, facts.resolution_seconds) == (60.0, 300.0)
    assert facts.agent == "ana@shop.example"  # the first person to answer
    assert (facts.human_messages, facts.outgoing) == (2, 0)
    assert facts.rating == 5


def test_a_handoff_nobody_answered_has_no_response_time() -> None:
    [facts] = conversation_facts(
        tracker(said("a person please", T), ConversationPaused(timestamp=T + 1)),
        CONFIG,
    )
    assert facts.handed_over and facts.first_response_seconds is None
    assert facts.resolution_seconds is None


def test_outcomes_need_their_slot_and_make_conversions() -> None:
    [facts] = conversation_facts(
        tracker(
            said("book me in", T, intent="book"),
            # a booking that failed: the action emptied the slot instead
            ActionExecuted("action_book", timestamp=T + 1),
            SlotSet("booking_id", None, timestamp=T + 1),
            said("try again", T + 5, intent="book"),
            ActionExecuted("action_book", timestamp=T + 6),
            BotUttered("Booked", timestamp=T + 6),
            SlotSet("booking_id", "b-17", timestamp=T + 6),
            said("actually cancel it", T + 20, intent="cancel"),
            ActionExecuted("action_cancel", timestamp=T + 21),
            SlotSet("booking_id", None, timestamp=T + 21),
            ActionExecuted("action_listen", timestamp=T + 21),
        ),
        CONFIG,
    )
    assert facts.outcomes == {"booked": 1, "cancelled": 1}
    assert facts.converted


def test_an_outcome_outside_the_conversions_is_no_conversion() -> None:
    [facts] = conversation_facts(
        tracker(
            said("cancel", T, intent="cancel"),
            ActionExecuted("action_cancel", timestamp=T + 1),
            SlotSet("booking_id", None, timestamp=T + 1),
        ),
        CONFIG,
    )
    assert facts.outcomes == {"cancelled": 1} and not facts.converted


def test_each_session_is_a_conversation_and_one_never_written_in_is_none() -> None:
    found = conversation_facts(
        tracker(
            ActionExecuted("action_session_start", timestamp=T),
            SessionStarted(timestamp=T),
            said("hello", T + 1),
            SlotSet("language", "fr", timestamp=T + 1),
            ActionExecuted("action_session_start", timestamp=T + 86400),
            SessionStarted(timestamp=T + 86400),
            # the widget greeted, the customer never wrote
            BotUttered("Hi again", timestamp=T + 86401),
            ActionExecuted("action_session_start", timestamp=T + 2 * 86400),
            SessionStarted(timestamp=T + 2 * 86400),
            said("me again", T + 2 * 86400 + 5),
        ),
        CONFIG,
    )
    assert [(f.session, f.day, f.language) for f in found] == [
        (0, "2026-03-02", "fr"),
        (2, "2026-03-04", "fr"),  # the language carries over, as the slot does
    ]


def test_a_reminder_is_not_the_customer_writing() -> None:
    found = conversation_facts(
        tracker(
            UserUttered(
                "EXTERNAL: remind",
                intent={"name": "remind", "confidence": 1.0},
                metadata={"is_external": True},
                timestamp=T,
            ),
            BotUttered("Your appointment is tomorrow", timestamp=T),
        ),
        CONFIG,
    )
    assert found == []


RULES = AnalyticsConfig(
    outcomes=CONFIG.outcomes,
    conversions=CONFIG.conversions,
    labels=(
        LabelRule("refund", keywords=("refund", "money back")),
        LabelRule("angry", sentiment="negative"),
        LabelRule("colouring", entity="service", value="colouring"),
        LabelRule("booked", outcome="booked"),
        LabelRule("unresolved", outcome="unresolved"),
        LabelRule("french-sms", channels=("twilio",), languages=("fr",)),
        LabelRule("booking-question", intents=("book",), keywords=("price",)),
    ),
)


def test_label_rules_test_words_sentiment_entities_and_outcomes() -> None:
    angry = UserUttered(
        "I want my MONEY BACK now",
        intent={"name": "complain", "confidence": 0.9},
        parse_data_extra={"sentiment": {"label": "negative", "score": -0.7}},
        timestamp=T,
    )
    found = conversation_facts(
        tracker(
            angry,
            ActionExecuted("utter_sorry", timestamp=T + 1),
            UserUttered(
                "book a colouring",
                intent={"name": "book", "confidence": 0.9},
                entities=[{"entity": "service", "value": "colouring", "start": 7, "end": 16}],
                timestamp=T + 10,
            ),
            ActionExecuted("action_book", timestamp=T + 11),
            SlotSet("booking_id", "b1", timestamp=T + 11),
        ),
        RULES,
    )
    assert labels_of(found, RULES) == {"refund", "angry", "colouring", "booked"}


def test_a_keyword_is_a_whole_word_and_every_test_of_a_rule_must_hold() -> None:
    found = conversation_facts(
        tracker(said("what is the price, refundable?", T, intent="ask_question")), RULES
    )
    # "refundable" is not "refund"; "price" without the intent `book` is not enough
    assert labels_of(found, RULES) == set()


def test_channel_and_language_rules() -> None:
    found = conversation_facts(
        tracker(
            UserUttered("bonjour", intent={"name": "greet"}, input_channel="twilio", timestamp=T),
            SlotSet("language", "fr", timestamp=T),
            ActionExecuted("action_default_fallback", timestamp=T + 1),
        ),
        RULES,
    )
    assert labels_of(found, RULES) == {"french-sms", "unresolved"}


def test_a_call_counts_its_length_silences_misunderstandings_confidence_and_hang_up() -> None:
    heard = {"call_id": "CA1", "speech_confidence": 0.8}
    [facts] = conversation_facts(
        tracker(
            CallStep("CA1", "started", timestamp=T),
            said("hello", T + 1, **heard),
            ActionExecuted("utter_greet", timestamp=T + 2),
            BotUttered("Hi! How can I help?", timestamp=T + 2),
            CallStep("CA1", "no_input", {"count": 1}, timestamp=T + 10),
            said("blorp", T + 20, "nlu_fallback", call_id="CA1", speech_confidence=0.4),
            ActionExecuted("action_default_fallback", timestamp=T + 21),
            said("book a haircut", T + 30, "book", call_id="CA1", speech_confidence=0.9),
            ActionExecuted("booking_form", timestamp=T + 31),
            CallStep(
                "CA1",
                "ended",
                {"status": "completed", "duration": 95, "requested_slot": "email"},
                timestamp=T + 95,
            ),
        ),
        CONFIG,
    )
    assert (facts.calls, facts.call_seconds, facts.no_inputs, facts.no_matches) == (1, 95, 1, 1)
    assert facts.heard == 3 and facts.heard_confidence == 0.8 + 0.4 + 0.9
    assert facts.hangups == {"email": 1}
    assert facts.contained_calls == 1 and facts.transfers == 0


def test_a_call_put_through_to_a_person_is_not_contained() -> None:
    [facts] = conversation_facts(
        tracker(
            CallStep("CA2", "started", timestamp=T),
            said("a person please", T + 1, "request_human", call_id="CA2"),
            ActionExecuted("action_handoff", timestamp=T + 2),
            ConversationPaused(timestamp=T + 2),
            CallStep("CA2", "transfer", {"to": "+442079460321"}, timestamp=T + 2),
            CallStep(
                "CA2",
                "ended",
                {"duration": 300, "last_action": "action_handoff"},
                timestamp=T + 300,
            ),
        ),
        CONFIG,
    )
    assert (facts.calls, facts.transfers, facts.contained_calls) == (1, 1, 0)
    assert facts.hangups == {"action_handoff": 1}
    assert facts.heard == 0  # Twilio gave no confidence: nothing to average


def test_the_web_chats_microphone_gives_its_confidence_too() -> None:
    [facts] = conversation_facts(
        tracker(said("opening hours", T, "ask_hours", speech={"confidence": 0.5, "seconds": 2})),
        CONFIG,
    )
    assert (facts.heard, facts.heard_confidence, facts.calls) == (1, 0.5, 0)
