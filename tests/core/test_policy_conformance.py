"""Every registered policy: train -> persist -> load -> the same predictions, as the NLU
components' conformance test pins for components."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.core.policies.policy import Policy
from parlez.domain import Domain
from parlez.events import ACTION_LISTEN, ActionExecuted, UserUttered
from parlez.registry import policies
from parlez.tracker import DialogueStateTracker
from tests.core.helpers import domain, trackers

DOMAIN = domain("""
    version: "3.1"
    intents: [greet, goodbye, ask_hours]
    responses:
      utter_greet: [{text: "Hello"}]
      utter_goodbye: [{text: "Bye"}]
      utter_hours: [{text: "9 to 5"}]
    """)

STORIES = """
    stories:
      - story: greet then hours
        steps:
          - intent: greet
          - action: utter_greet
          - intent: ask_hours
          - action: utter_hours
      - story: greet then bye
        steps:
          - intent: greet
          - action: utter_greet
          - intent: goodbye
          - action: utter_goodbye
    """

RULES = """
    rules:
      - rule: bye
        steps:
          - intent: goodbye
          - action: utter_goodbye
    """

#: small enough to train in a moment; each policy keeps its other defaults
FAST = {"epochs": 3}


def _said(*intents: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.for_domain("visitor", DOMAIN)
    tracker.update(ActionExecuted(ACTION_LISTEN))
    for intent in intents:
        tracker.update(UserUttered(f"/{intent}", {"name": intent, "confidence": 1.0}))
        if intent != intents[-1]:
            tracker.update(ActionExecuted(f"utter_{'greet' if intent == 'greet' else 'hours'}"))
            tracker.update(ActionExecuted(ACTION_LISTEN))
    return tracker


CONVERSATIONS = [_said("greet"), _said("greet", "ask_hours"), _said("goodbye"), _said("ask_hours")]


def _trained(cls: type[Policy], dom: Domain) -> Policy:
    params = {k: v for k, v in FAST.items() if k in cls.defaults}
    return cls.create(params).train(trackers(STORIES, RULES), dom)


@pytest.mark.parametrize("cls", list(policies), ids=lambda cls: cls.name)
def test_a_loaded_policy_predicts_what_it_predicted_before_it_was_saved(
    cls: type[Policy], tmp_path: Path
) -> None:
    policy = _trained(cls, DOMAIN)
    before = [policy.predict(t, DOMAIN) for t in CONVERSATIONS]
    policy.persist(tmp_path)
    loaded = cls.load(tmp_path, policy.config)
    after = [loaded.predict(t, DOMAIN) for t in CONVERSATIONS]
    for old, new in zip(before, after, strict=True):
        assert new.policy_name == old.policy_name
        assert new.probabilities == pytest.approx(old.probabilities, abs=1e-6)
