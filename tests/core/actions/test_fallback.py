"""The two-stage fallback: "did you mean...?", then "please rephrase", then give up."""

from __future__ import annotations

from tests.core.helpers import agent, domain, events, say

DOMAIN = """
version: "3.1"
intents: [greet, ask_hours, affirm]
responses:
  utter_hours: [{text: "We are open 9 to 5."}]
  utter_ask_rephrase: [{text: "Could you say that differently?"}]
  utter_default: [{text: "I can't help with that, sorry."}]
"""

RULES = """
rules:
- rule: hours
  steps:
  - intent: ask_hours
  - action: utter_hours
- rule: unsure
  steps:
  - intent: nlu_fallback
  - action: action_two_stage_fallback
  - active_loop: action_two_stage_fallback
"""


def test_an_affirmed_guess_answers_the_original_question() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    asked = say(bot, "/nlu_fallback")
    assert asked[0].startswith("Did you mean")
    assert say(bot, "/ask_hours") == ["We are open 9 to 5."]
    loops = [e["name"] for e in events(bot) if e["event"] == "active_loop"]
    assert loops == ["action_two_stage_fallback", None]


def test_denied_twice_it_gives_up_with_the_default_fallback() -> None:
    bot = agent(domain(DOMAIN), rules=RULES)
    say(bot, "/nlu_fallback")
    assert say(bot, "/out_of_scope") == ["Could you say that differently?"]
    assert say(bot, "/nlu_fallback")[0].startswith("Did you mean")
    assert say(bot, "/out_of_scope") == ["I can't help with that, sorry."]
    assert say(bot, "/ask_hours") == ["We are open 9 to 5."]
