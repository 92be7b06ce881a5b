from __future__ import annotations

import pytest

from parlez.diagnostics import Diagnostic
from parlez.exceptions import DuplicateNameError
from parlez.validator import Validator
from tests.conftest import ProjectFactory, nlu_file

DOMAIN = """
version: "3.1"
intents: [greet, bye, inform]
entities: [city]
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
forms:
  trip_form:
    required_slots: [city]
responses:
  utter_greet:
  - text: hi
  utter_bye:
  - text: bye
  utter_unused:
  - text: nobody says this
"""
NLU = nlu_file("""
- intent: greet
  examples: |
    - hi
    - hello
- intent: bye
  examples: |
    - bye
    - hello
- intent: inform
  examples: |
    - to [Paris](city)
""")


def findings(
    project_factory: ProjectFactory,
    stories: str,
    domain: str = DOMAIN,
    nlu: str = NLU,
    rules: str | None = None,
) -> list[Diagnostic]:
    project = project_factory(domain=domain, nlu=nlu, stories=stories, rules=rules)
    validator = Validator(project.domain, project.training_data, project.stories, project.rules)
    return validator.run(max_history=project.config.max_history())


def codes(found: list[Diagnostic], level: str | None = None) -> list[str]:
    return [f.code for f in found if level is None or f.level == level]


GOOD_STORIES = """
version: "3.1"
stories:
- story: hello
  steps:
  - intent: greet
  - action: utter_greet
  - intent: bye
  - action: utter_bye
"""


def test_a_clean_project_has_no_errors(tmp_project: ProjectFactory) -> None:
    found = findings(tmp_project, GOOD_STORIES)
    assert codes(found, "error") == []


def test_unused_responses_and_repeated_examples_are_warnings(tmp_project: ProjectFactory) -> None:
    found = findings(tmp_project, GOOD_STORIES)
    assert sorted(codes(found, "warning")) == ["P203", "P206", "P220"]
    assert "'inform'" in next(f for f in found if f.code == "P206").message
    repeated = next(f for f in found if f.code == "P203")
    assert "'hello'" in repeated.message and "bye, greet" in repeated.message
    unused = next(f for f in found if f.code == "P220")
    assert "utter_unused" in unused.message and unused.where is not None and unused.where.line == 18


def test_a_response_the_in_process_actions_name_counts_as_used(
    tmp_project: ProjectFactory,
) -> None:
    project = tmp_project(
        domain=DOMAIN,
        nlu=NLU,
        stories=GOOD_STORIES,
        files={
            "endpoints.yml": "action_endpoint:\n  actions_module: shop_actions\n",
            "shop_actions/__init__.py": (
                "def run(dispatcher):\n"
                "    dispatcher.utter_message(response='utter_unused', name='Ada')\n"
            ),
        },
    )
    found = Validator.for_project(project).run(max_history=project.config.max_history())
    assert "P220" not in codes(found, "warning")


def test_an_action_that_asks_for_a_forms_slot_counts_as_used(
    tmp_project: ProjectFactory,
) -> None:
    domain = DOMAIN + "actions: [action_ask_city, action_ask_trip_form_city]\n"
    found = findings(tmp_project, GOOD_STORIES, domain=domain)
    assert not [f for f in found if f.code == "P221"]


def test_a_story_using_an_undeclared_intent_is_an_error_with_its_line(
    tmp_project: ProjectFactory,
) -> None:
    found = findings(tmp_project, GOOD_STORIES.replace("intent: bye", "intent: goodbye"))
    [error] = [f for f in found if f.code == "P210"]
    assert "'goodbye'" in error.message
    assert (
        error.where is not None
        and str(error.where.path).endswith("data/stories.yml")
        and error.where.line == 7
    )


def test_undeclared_actions_and_forms_in_stories_are_errors_and_slots_warnings(
    tmp_project: ProjectFactory,
) -> None:
    found = findings(
        tmp_project,
        """
version: "3.1"
stories:
- story: broken
  steps:
  - intent: greet
  - action: utter_hello
  - action: action_missing
  - active_loop: nope_form
  - slot_was_set:
    - colour: red
""",
    )
    # Rasa's `data validate` fails on the first three; it trains with the slot (its tracker
    # logs that the slot does not exist and goes on)
    assert sorted(codes(found, "error")) == ["P212", "P212", "P213"]
    assert codes(found, "warning").count("P214") == 1


def test_nlu_intents_missing_from_the_domain_are_errors(tmp_project: ProjectFactory) -> None:
    found = findings(
        tmp_project, GOOD_STORIES, nlu=NLU + "- intent: order\n  examples: |\n    - a pizza\n"
    )
    assert "P201" in codes(found, "error")


def test_an_intent_the_pipeline_gives_needs_no_examples(tmp_project: ProjectFactory) -> None:
    domain = DOMAIN.replace(
        "intents: [greet, bye, inform]", "intents: [greet, bye, inform, complain]"
    )
    project = tmp_project(domain=domain, nlu=NLU, stories=GOOD_STORIES)
    found = Validator(project.domain, project.training_data, project.stories).run()
    assert "P202" in codes(found, "warning")
    quiet = Validator(
        project.domain,
        project.training_data,
        project.stories,
        pipeline_intents=frozenset({"complain"}),
    ).run()
    assert "P202" not in codes(quiet)


def test_form_slots_and_mappings_are_checked(tmp_project: ProjectFactory) -> None:
    domain = DOMAIN.replace("required_slots: [city]", "required_slots: [city, date]").replace(
        "entity: city\n", "entity: town\n      conditions:\n      - active_loop: other_form\n"
    )
    found = findings(tmp_project, GOOD_STORIES, domain=domain)
    assert {"P230", "P235"} <= set(codes(found, "error"))
    assert "P233" in codes(found, "warning")


def test_stories_that_diverge_from_the_same_state_conflict_with_a_warning(
    tmp_project: ProjectFactory,
) -> None:
    """Rasa logs a conflict and fails `data validate` only with --fail-on-warnings."""
    found = findings(
        tmp_project,
        """
version: "3.1"
stories:
- story: polite
  steps:
  - intent: greet
  - action: utter_greet
- story: rude
  steps:
  - intent: greet
  - action: utter_bye
""",
    )
    [conflict] = [f for f in found if f.code == "P250"]
    assert conflict.level == "warning"
    assert "after intent 'greet'" in conflict.message
    assert (
        "'utter_bye' in 'rude'" in conflict.message
        and "'utter_greet' in 'polite'" in conflict.message
    )


def test_max_history_decides_whether_earlier_turns_tell_stories_apart(
    tmp_project: ProjectFactory,
) -> None:
    stories = """
version: "3.1"
stories:
- story: a
  steps:
  - intent: greet
  - action: utter_greet
  - intent: bye
  - action: utter_bye
- story: b
  steps:
  - intent: inform
  - action: utter_greet
  - intent: bye
  - action: utter_greet
"""
    project = tmp_project(domain=DOMAIN, nlu=NLU, stories=stories)
    validator = Validator(project.domain, project.training_data, project.stories)
    assert "P250" not in codes(validator.run(max_history=None))
    validator = Validator(project.domain, project.training_data, project.stories)
    # The state before the last action differs only in the intent that opened the story.
    assert "P250" in codes(validator.run(max_history=1))


def test_mapping_policy_triggers_and_responseless_utter_actions_are_reported(
    tmp_project: ProjectFactory,
) -> None:
    """Both warned about: Rasa 3 trains a domain with `triggers` and does nothing on them."""
    domain = DOMAIN.replace(
        "intents: [greet, bye, inform]",
        "intents:\n  - greet:\n      triggers: utter_greet\n  - bye\n  - inform\nactions:\n  - utter_nothing\n",
    )
    found = findings(tmp_project, GOOD_STORIES, domain=domain)
    assert "P207" in codes(found, "warning") and "P207" not in codes(found, "error")
    assert "P208" in codes(found, "warning")


def test_an_empty_domain_is_an_error(tmp_project: ProjectFactory) -> None:
    found = findings(
        tmp_project,
        GOOD_STORIES,
        domain='version: "3.1"\nsession_config:\n  session_expiration_time: 5\n',
    )
    assert "P200" in codes(found, "error")
    (empty,) = [f for f in found if f.code == "P200"]
    assert empty.where is not None and str(empty.where.path).endswith("domain.yml")


def test_a_mapping_conditioned_on_a_form_that_does_not_require_the_slot_is_an_error(
    tmp_project: ProjectFactory,
) -> None:
    domain = """
intents: [greet, bye, inform]
entities: [city]
slots:
  city:
    type: text
    mappings:
    - type: from_entity
      entity: city
      conditions:
      - active_loop: trip_form
  note:
    type: text
    mappings:
    - type: from_text
forms:
  trip_form:
    required_slots: [note]
responses:
  utter_greet:
  - text: hi
  utter_bye:
  - text: bye
"""
    [error] = [f for f in findings(tmp_project, GOOD_STORIES, domain=domain) if f.code == "P238"]
    assert "slot 'city'" in error.message and "'trip_form'" in error.message


def test_retrieval_responses_count_as_used_through_their_retrieval_action(
    tmp_project: ProjectFactory,
) -> None:
    domain = DOMAIN.replace("intents: [greet, bye, inform]", "intents: [greet, bye, inform, faq]")
    nlu = NLU + "- intent: faq/ask_hours\n  examples: |\n    - when are you open?\n"
    stories = GOOD_STORIES + "- story: faq\n  steps:\n  - intent: faq\n  - action: utter_faq\n"
    project = tmp_project(
        domain=domain,
        nlu=nlu,
        stories=stories,
        files={
            "data/responses.yml": 'version: "3.1"\nresponses:\n  utter_faq/ask_hours:\n  - text: 9 to 5\n'
        },
    )
    found = Validator(project.domain, project.training_data, project.stories).run()
    assert not any("utter_faq" in f.message for f in found)
    assert "P212" not in codes(found)


def test_an_intent_listed_twice_in_one_file_is_an_error_as_in_rasa(
    tmp_project: ProjectFactory,
) -> None:
    with pytest.raises(DuplicateNameError, match="'greet' is listed twice") as refused:
        tmp_project(domain="intents: [greet, greet]\n").domain  # noqa: B018
    assert refused.value.code == "P135" and refused.value.where is not None
    assert refused.value.where.column == 18
