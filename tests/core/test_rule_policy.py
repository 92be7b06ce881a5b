"""RulePolicy: rules as Rasa 3 applies them, forms' happy and unhappy paths, contradictions."""

from __future__ import annotations

import pytest

from parlez.agent import Agent
from parlez.core.policies.incomplete_rules import IncompleteRuleError
from parlez.core.policies.rule import (
    RuleContradictionError,
    RulePolicy,
    RuleTooLongError,
    StoryContradictsRuleError,
)
from parlez.events import ActionExecuted, UserUttered
from parlez.tracker import DialogueStateTracker
from tests.core.helpers import agent, domain, ensemble, say, trackers

DOMAIN = """
version: "3.1"
intents: [greet, goodbye, bot_challenge, chitchat, request_table, inform, stop]
entities: [cuisine]
slots:
  cuisine:
    type: text
    influence_conversation: false
    mappings:
    - type: from_entity
      entity: cuisine
  vip:
    type: bool
    initial_value: false
    mappings:
    - type: custom
forms:
  table_form:
    required_slots: [cuisine]
responses:
  utter_greet: [{text: "Hello!"}]
  utter_greet_vip: [{text: "Welcome back, dear guest!"}]
  utter_goodbye: [{text: "Bye"}]
  utter_iamabot: [{text: "I am a bot."}]
  utter_chitchat: [{text: "Let's stay on topic."}]
  utter_ask_cuisine: [{text: "Which cuisine?"}]
  utter_booked: [{text: "Booked a {cuisine} table."}]
  utter_welcome: [{text: "Welcome to the restaurant!"}]
"""

RULES = """
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: bot challenge
  steps:
  - intent: bot_challenge
  - action: utter_iamabot
- rule: chitchat
  steps:
  - intent: chitchat
  - action: utter_chitchat
- rule: activate the form
  steps:
  - intent: request_table
  - action: table_form
  - active_loop: table_form
- rule: submit the form
  condition:
  - active_loop: table_form
  steps:
  - action: table_form
  - active_loop: null
  - action: utter_booked
"""


def test_a_rule_answers_its_intent_in_any_context() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, "/greet") == ["Hello!"]
    assert say(bot, "/bot_challenge") == ["I am a bot."]
    assert say(bot, "/greet") == ["Hello!"]


def test_a_form_asks_for_its_slots_and_the_submit_rule_follows() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, "/request_table") == ["Which cuisine?"]
    assert say(bot, '/inform{"cuisine": "thai"}') == ["Booked a thai table."]


def test_an_interruption_is_answered_then_the_form_asks_again() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, "/request_table")
    # The form cannot use a chitchat message: it rejects, the chitchat rule answers,
    # and the form takes the turn back and asks again.
    assert say(bot, "/chitchat") == ["Let's stay on topic.", "Which cuisine?"]
    assert say(bot, '/inform{"cuisine": "thai"}') == ["Booked a thai table."]


def test_a_filled_slot_in_the_activating_message_skips_its_question() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    assert say(bot, '/request_table{"cuisine": "greek"}') == ["Booked a greek table."]


def test_conversation_start_rules_apply_only_at_the_start() -> None:
    rules = (
        RULES
        + """
- rule: welcome first-time greeters
  conversation_start: true
  steps:
  - intent: greet
  - action: utter_welcome
"""
    )
    bot = agent(domain(DOMAIN), rules=rules)
    assert say(bot, "/greet") == ["Welcome to the restaurant!"]
    assert say(bot, "/greet") == ["Hello!"]


def test_a_condition_on_a_slot_selects_the_rule() -> None:
    rules = (
        RULES.replace(
            "- rule: greet\n",
            "- rule: greet\n  condition:\n  - slot_was_set:\n    - vip: false\n",
            1,
        )
        + """
- rule: greet a vip
  condition:
  - slot_was_set:
    - vip: true
  steps:
  - intent: greet
  - action: utter_greet_vip
"""
    )
    bot = agent(domain(DOMAIN), rules=rules)
    assert say(bot, "/greet") == ["Hello!"]


def test_restart_is_a_default_rule() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, "/request_table")
    say(bot, "/restart")
    assert say(bot, "/greet") == ["Hello!"]


def test_nothing_known_predicts_the_core_fallback() -> None:
    dom = domain(DOMAIN + '  utter_default: [{text: "Sorry?"}]\n')
    bot = agent(dom, rules=RULES)
    assert say(bot, "/goodbye") == ["Sorry?"]


def test_contradicting_rules_are_an_error_naming_both() -> None:
    rules = (
        RULES
        + """
- rule: greet differently
  steps:
  - intent: greet
  - action: utter_goodbye
"""
    )
    dom = domain(DOMAIN)
    with pytest.raises(RuleContradictionError) as error:
        ensemble([{"name": "RulePolicy"}], trackers(rules=rules), dom)
    message = error.value.render()
    assert "'greet'" in message and "'greet differently'" in message
    assert "utter_greet" in message and "utter_goodbye" in message


GREET_AND_CHAT = """
stories:
- story: greet and chat
  steps:
  - intent: greet
  - action: utter_greet
  - action: utter_chitchat
"""


def test_a_story_that_goes_on_where_a_rule_listens_is_an_error_naming_both() -> None:
    with pytest.raises(StoryContradictsRuleError) as error:
        ensemble([{"name": "RulePolicy"}], trackers(GREET_AND_CHAT, RULES), domain(DOMAIN))
    message = error.value.render()
    assert "'greet and chat'" in message and "'greet'" in message
    assert "utter_chitchat" in message and "action_listen" in message
    assert "wait_for_user_input: false" in message


def test_a_rule_that_does_not_wait_lets_a_story_go_on() -> None:
    rules = RULES.replace(
        "  - intent: greet\n  - action: utter_greet\n",
        "  - intent: greet\n  - action: utter_greet\n  wait_for_user_input: false\n",
        1,
    )
    bot = agent(domain(DOMAIN), stories=GREET_AND_CHAT, rules=rules)
    assert say(bot, "/greet") == ["Hello!", "Let's stay on topic."]


def test_stories_that_agree_with_the_rules_and_leave_a_form_train() -> None:
    # An unhappy path in a story: the form rejects the chitchat, the rule answers it and
    # the form takes the turn back, as at prediction time: no contradiction.
    stories = """
stories:
- story: chitchat during the form
  steps:
  - intent: request_table
  - action: table_form
  - active_loop: table_form
  - intent: chitchat
  - action: utter_chitchat
  - action: table_form
  - intent: inform
    entities:
    - cuisine: thai
  - action: table_form
  - active_loop: null
  - action: utter_booked
"""
    bot = agent(domain(DOMAIN), stories=stories, rules=RULES)
    say(bot, "/request_table")
    assert say(bot, "/chitchat") == ["Let's stay on topic.", "Which cuisine?"]


def test_a_rule_with_two_user_messages_is_refused_unless_rules_are_unrestricted() -> None:
    rules = (
        RULES
        + """
- rule: greet then bye
  steps:
  - intent: greet
  - action: utter_greet
  - intent: goodbye
  - action: utter_goodbye
"""
    )
    dom = domain(DOMAIN)
    with pytest.raises(RuleTooLongError) as error:
        ensemble([{"name": "RulePolicy"}], trackers(rules=rules), dom)
    assert "'greet then bye' has 2 user messages" in error.value.render()
    unrestricted = ensemble(
        [{"name": "RulePolicy", "restrict_rules": False}], trackers(rules=rules), dom
    )
    policy = unrestricted.policies[0]
    assert isinstance(policy, RulePolicy)
    assert any(rule.name == "greet then bye" for rule in policy.rules_)


VIP_RULES = """
rules:
- rule: check a guest
  steps:
  - intent: greet
  - action: utter_welcome
  - slot_was_set:
    - vip: true
  - action: utter_greet_vip
- rule: check a guest who says bye
  steps:
  - intent: goodbye
  - action: utter_welcome
  - action: utter_goodbye
"""


def test_an_action_that_sets_a_slot_in_one_rule_must_set_it_in_all() -> None:
    featurized = DOMAIN.replace(
        "    initial_value: false\n", "    initial_value: false\n    influence_conversation: true\n"
    )
    with pytest.raises(IncompleteRuleError) as error:
        ensemble([{"name": "RulePolicy"}], trackers(rules=VIP_RULES), domain(featurized))
    message = error.value.render()
    assert "'utter_welcome' in the rule 'check a guest who says bye'" in message
    assert "vip" in message
    # Written out (set to null where it is not set), the rules train.
    complete = VIP_RULES.replace(
        "  - action: utter_welcome\n  - action: utter_goodbye",
        "  - action: utter_welcome\n  - slot_was_set:\n    - vip: null\n  - action: utter_goodbye",
    )
    ensemble([{"name": "RulePolicy"}], trackers(rules=complete), domain(featurized))
    ensemble(
        [{"name": "RulePolicy", "check_for_contradictions": False}],
        trackers(rules=VIP_RULES),
        domain(featurized),
    )


def test_a_form_run_by_a_rule_must_say_whether_it_stays_active() -> None:
    activate = """
rules:
- rule: activate the form
  steps:
  - intent: request_table
  - action: table_form
  - active_loop: table_form
"""
    silent = (
        activate
        + """
- rule: a form run without saying what becomes of it
  steps:
  - intent: inform
  - action: table_form
  - action: utter_booked
"""
    )
    with pytest.raises(IncompleteRuleError) as error:
        ensemble([{"name": "RulePolicy"}], trackers(rules=silent), domain(DOMAIN))
    assert "the form 'table_form' in the rule 'a form run without" in error.value.render()
    # Unless the rule does not wait for the user after it: then anything may follow.
    open_ended = (
        activate
        + """
- rule: a form is started and the conversation goes on
  steps:
  - intent: inform
  - action: table_form
  wait_for_user_input: false
"""
    )
    ensemble([{"name": "RulePolicy"}], trackers(rules=open_ended), domain(DOMAIN))


def test_a_rule_for_an_exact_text_wins_over_the_rule_for_its_intent() -> None:
    text_rule = (
        RULES
        + """
- rule: a greeting we answer in kind
  steps:
  - user: "good day to you"
  - action: utter_welcome
"""
    )
    bot = agent(domain(DOMAIN), rules=text_rule)
    prediction = bot.processor.ensemble.predict(_greeted(bot, "good day to you"), bot.domain)
    assert prediction.is_end_to_end_prediction
    assert bot.domain.action_names_or_texts[prediction.max_confidence_index] == "utter_welcome"
    other = bot.processor.ensemble.predict(_greeted(bot, "hi there"), bot.domain)
    assert bot.domain.action_names_or_texts[other.max_confidence_index] == "utter_greet"


def _greeted(bot: Agent, text: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.for_domain("t", bot.domain)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text=text, intent={"name": "greet", "confidence": 0.9}))
    return tracker
