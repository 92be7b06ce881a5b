"""Every default action the domain lists has an action behind its name, and no other."""

from __future__ import annotations

from parlez.core.actions.lookup import DEFAULT_ACTIONS, action_for_name
from parlez.domain import DEFAULT_ACTIONS as DOMAIN_DEFAULTS
from parlez.domain import Domain


def test_the_domain_and_the_lookup_name_the_same_default_actions() -> None:
    # "..." is Rasa's placeholder in the action list, not an action.
    assert set(DEFAULT_ACTIONS) == set(DOMAIN_DEFAULTS) - {"..."}


def test_each_default_action_answers_to_its_own_name() -> None:
    domain = Domain.from_raw({})
    for name in DEFAULT_ACTIONS:
        assert action_for_name(name, domain).name() == name
