"""`parlez data validate` fails where `rasa data validate` fails and passes where it passes,
on the patterns Rasa's own documentation gives."""

from __future__ import annotations

from parlez.validator import Validator
from tests.conftest import ProjectFactory

DOMAIN = """
version: "3.1"
intents: [greet, nlu_fallback]
responses:
  utter_greet:
  - text: hi
"""

TWO_STAGE_RULES = """
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: Implementation of the Two-Stage-Fallback
  steps:
  - intent: nlu_fallback
  - action: action_two_stage_fallback
  - active_loop: action_two_stage_fallback
"""


def test_a_rule_activating_the_two_stage_fallback_loop_is_valid(
    tmp_project: ProjectFactory,
) -> None:
    """Rasa's fallback docs activate it exactly so: it is a loop, not a missing form."""
    project = tmp_project(domain=DOMAIN, rules=TWO_STAGE_RULES)
    found = Validator.for_project(project).run(None)
    assert [f.code for f in found if f.level == "error"] == []


def test_a_rule_activating_an_unknown_loop_is_still_an_error(
    tmp_project: ProjectFactory,
) -> None:
    project = tmp_project(
        domain=DOMAIN, rules=TWO_STAGE_RULES.replace("active_loop: action_two", "active_loop: two")
    )
    found = Validator.for_project(project).run(None)
    assert [f.code for f in found if f.level == "error"] == ["P213"]
