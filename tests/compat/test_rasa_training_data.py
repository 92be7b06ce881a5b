"""Rasa 3.0's own test fixtures (`data/` of its repository) read as Rasa's tests expect:
what Rasa refuses is refused, what it warns about is warned about (with a code here), and
no story is lost without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parlez.core.training_trackers import story_trackers
from parlez.diagnostics import Diagnostic, collect
from parlez.domain import Domain
from parlez.events import ActionExecuted, SlotSet, UserUttered
from parlez.exceptions import DuplicateNameError, ParlezError, SchemaError, YamlSyntaxError
from parlez.project import DataFiles, read_data_file
from tests.conftest import shared_path


def rasa_data(*parts: str) -> Path:
    return shared_path("compat", "rasa-3.0.4", "data", *parts)


def read(path: Path) -> tuple[DataFiles, list[Diagnostic]]:
    data = DataFiles()
    with collect() as warnings:
        read_data_file(path, data)
    return data, list(warnings)


# ---- stories ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["stories_unused_checkpoints.yml", "story_with_or_slot_was_set.yml"]
)
def test_stories_ending_at_an_unused_checkpoint_are_trained(name: str) -> None:
    """test_generate_training_data_with_unused_checkpoints and
    test_or_statement_story_with_or_slot_was_set: two trackers each."""
    data, _ = read(rasa_data("test_yaml_stories", name))
    with collect() as warnings:
        trackers = story_trackers(data.stories)
    assert len(trackers) == 2
    assert {w.code for w in warnings} == {"P151"}  # said, as Rasa says it


def test_or_slot_was_set_gives_one_tracker_per_value() -> None:
    data, _ = read(rasa_data("test_yaml_stories", "story_with_or_slot_was_set.yml"))
    slots = [[e for e in t.events if isinstance(e, SlotSet)] for t in story_trackers(data.stories)]
    assert [[(s.key, s.value) for s in found] for found in slots] == [
        [("name", "peter")],
        [("name", "bob")],
    ]


def test_an_intent_with_a_leading_slash_is_read_without_it_and_warned_about() -> None:
    """test_yaml_intent_with_leading_slash_warning: one warning, intent 'simple'."""
    data, warnings = read(rasa_data("test_wrong_yaml_stories", "intent_with_leading_slash.yml"))
    assert [w.code for w in warnings] == ["P152"]
    user = next(e for e in story_trackers(data.stories)[0].events if isinstance(e, UserUttered))
    assert user.intent["name"] == "simple"


@pytest.mark.parametrize("name", ["rules_missing_intent.yml", "stories_missing_intent.yml"])
def test_a_step_without_an_intent_value_is_warned_about(name: str) -> None:
    """test_raises_exception_missing_intent_in_rules: 'Missing intent value' warned."""
    data, warnings = read(rasa_data("test_yaml_stories", name))
    assert [w.code for w in warnings] == ["P153"]
    assert "no intent value" in warnings[0].message
    blocks = data.stories + data.rules
    assert len(blocks) == 1


def test_broken_yaml_in_a_story_file_is_refused_with_its_line() -> None:
    """test_yaml_wrong_yaml_format_warning: YamlSyntaxException."""
    with pytest.raises(YamlSyntaxError) as refused:
        read(rasa_data("test_wrong_yaml_stories", "wrong_yaml.yml"))
    assert refused.value.where is not None and refused.value.where.line == 2


def test_a_rule_under_stories_is_skipped_with_a_warning_and_the_file_kept(
    tmp_path: Path,
) -> None:
    """Rasa's story reader skips an item that is not a story; parlez says so."""
    path = tmp_path / "stories.yml"
    path.write_text(
        "stories:\n"
        "- story: greet\n"
        "  steps:\n"
        "  - intent: greet\n"
        "  - action: utter_greet\n"
        "- rule: bye\n"
        "  steps:\n"
        "  - intent: bye\n"
        "  - action: utter_bye\n",
        encoding="utf-8",
    )
    data, warnings = read(path)
    assert [b.name for b in data.stories] == ["greet"]
    assert [w.code for w in warnings] == ["P154"]
    assert "'rule' under 'stories:'" in warnings[0].message
    assert warnings[0].hint == "move it under 'rules:'"
    assert warnings[0].where is not None and warnings[0].where.line == 6


def test_a_story_file_with_a_checkpoint_loop_expands_to_a_few_conversations() -> None:
    """test_read_story_file_with_cycles / test_generate_training_data_with_cycles (3 or 4
    trackers, with Rasa's test domain): the loop get_name -> process_name -> get_name is gone
    round a bounded number of times (it was unrolled into 10,000 conversations), and the
    checkpoint's `slot_was_set` is a condition: 'goodbye' (name=Josh) follows the message
    whose entity fills the slot, as Rasa's slot mapping fills it."""
    domain = Domain.load(rasa_data("test_domains", "default_with_slots.yml"))
    data, _ = read(rasa_data("test_yaml_stories", "stories_with_cycle.yml"))
    with collect() as warnings:
        trackers = story_trackers(data.stories, domain)
    assert 3 <= len(trackers) <= 4
    assert list(warnings) == []
    assert all(t.name.endswith("user sends name > goodbye") for t in trackers)
    ends = [[getattr(e, "action_name", None) for e in t.events[-3:]] for t in trackers]
    assert all(end == ["utter_goodbye", "action_restart", "action_listen"] for end in ends)


def test_a_story_loop_without_the_domain_says_what_it_cannot_reach() -> None:
    """Without the slots the entities fill, no conversation meets name=Josh: said, not lost
    without a word."""
    data, _ = read(rasa_data("test_yaml_stories", "stories_with_cycle.yml"))
    with collect() as warnings:
        trackers = story_trackers(data.stories)
    assert 1 <= len(trackers) <= 8
    assert [(w.code, "'goodbye'" in w.message) for w in warnings] == [("P151", True)]


def test_a_story_entity_fills_its_slot_as_the_assistant_will() -> None:
    """test_can_read_test_story_with_entities and ..._without_value: after the user
    message, the slot its entity fills (by the domain's from_entity mapping)."""
    domain = Domain.load(rasa_data("test_domains", "default_with_slots.yml"))
    data, _ = read(rasa_data("test_yaml_stories", "story_with_or_and_entities.yml"))
    plain, annotated = story_trackers(data.stories, domain)
    assert [type(e).__name__ for e in plain.tracker(domain).events[-3:]] == [
        "UserUttered",
        "ActionExecuted",
        "ActionExecuted",
    ]
    assert annotated.tracker(domain).events[-3] == SlotSet("name", "peter")
    data, _ = read(rasa_data("test_yaml_stories", "story_with_or_and_entities_with_no_value.yml"))
    [tracker] = story_trackers(data.stories, domain)
    assert isinstance(tracker.tracker(domain).events[-4], UserUttered)


@pytest.mark.parametrize(
    ("path", "count"),
    [
        (("test_yaml_stories", "stories.yml"), 7),
        (("test_yaml_stories", "stories_checkpoint_after_or.yml"), 2),
    ],
)
def test_stories_with_checkpoints_give_rasas_number_of_conversations(
    path: tuple[str, str], count: int
) -> None:
    """test_can_read_test_story, test_can_read_test_story_with_checkpoint_after_or."""
    data, _ = read(rasa_data(*path))
    with collect():
        assert len(story_trackers(data.stories)) == count


def test_stories_split_over_files_train_as_the_same_stories_in_one() -> None:
    """test_load_multi_file_training_data."""
    whole, _ = read(rasa_data("test_yaml_stories", "stories.yml"))
    split = DataFiles()
    with collect():
        for part in sorted(rasa_data("test_multifile_yaml_stories").glob("*.yml")):
            read_data_file(part, split)
        assert conversations_of(split) == conversations_of(whole)


def conversations_of(data: DataFiles) -> list[str]:
    """The conversations the stories expand into, as their events' JSON without time."""
    return sorted(
        json.dumps([{**e.to_dict(), "timestamp": None} for e in t.events], sort_keys=True)
        for t in story_trackers(data.stories)
    )


def test_a_story_mixing_intents_and_words_keeps_each_as_written() -> None:
    """test_parsing_of_e2e_stories."""
    data, _ = read(rasa_data("test_yaml_stories", "stories_hybrid_e2e.yml"))
    [tracker] = story_trackers(data.stories)
    said = [
        (e.text, e.intent_name, [(x["start"], x["end"], x["value"]) for x in e.entities])
        if isinstance(e, UserUttered)
        else (e.action_name or e.action_text)
        for e in tracker.events
        if isinstance(e, (UserUttered, ActionExecuted))
    ]
    assert said == [
        "action_listen",
        (None, "simple", []),
        "utter_greet",
        "action_listen",
        ("I am looking for a Kenyan restaurant", None, [(19, 25, "Kenyan")]),
        "good for you",
        "action_listen",
        (None, "goodbye", []),
        "utter_goodbye",
        "action_listen",
        ("One more thing", None, []),
        "What?",
        "action_listen",
    ]


def test_a_story_entity_may_have_a_role_and_a_shortcut_its_entities(tmp_path: Path) -> None:
    """test_end_to_end_story_with_entities, test_end_to_end_story_with_shortcut_intent: a
    role beside the entity was refused ("must be 'name' or 'name: value'"), and the
    entities of `user: /greet{...}` were lost."""
    path = tmp_path / "stories.yml"
    path.write_text(
        "stories:\n- story: my story\n  steps:\n"
        "  - intent: greet\n    entities:\n    - city: Berlin\n      role: from\n"
        '  - user: |\n      /greet{"name": "test"}\n    intent: greet\n',
        encoding="utf-8",
    )
    data, warnings = read(path)
    first, second = data.stories[0].steps[0].events[0], data.stories[0].steps[1].events[0]
    assert isinstance(first, UserUttered) and isinstance(second, UserUttered)
    assert first.entities == [{"entity": "city", "value": "Berlin", "role": "from"}]
    assert second.text == '/greet{"name": "test"}'
    assert second.entities == [{"entity": "name", "start": 6, "end": 22, "value": "test"}]
    assert warnings == []


def test_messages_about_stories_say_stories(tmp_path: Path) -> None:
    path = tmp_path / "stories.yml"
    path.write_text("stories: 3\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="'stories' must be a list"):
        read(path)


# ---- domains ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("duplicate_intents.yml", "intent"),
        ("duplicate_actions.yml", "action"),
        ("duplicate_entities.yml", "intent"),  # its intents are listed twice too
    ],
)
def test_a_name_listed_twice_in_one_domain_file_is_refused(name: str, kind: str) -> None:
    """test_load_on_invalid_domain_duplicate_*: InvalidDomain."""
    with pytest.raises(DuplicateNameError, match=f"the {kind} '.*' is listed twice"):
        Domain.load(rasa_data("test_domains", name))


def test_an_entity_listed_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "domain.yml"
    path.write_text("entities:\n- city\n- city\n", encoding="utf-8")
    with pytest.raises(DuplicateNameError, match="the entity 'city'") as refused:
        Domain.load(path)
    assert refused.value.code == "P135"


def test_a_response_written_twice_is_refused_as_a_duplicate_key() -> None:
    """test_load_on_invalid_domain_duplicate_responses: YamlSyntaxException."""
    with pytest.raises(SchemaError, match="duplicate key 'utter_greet'"):
        Domain.load(rasa_data("test_domains", "duplicate_responses.yml"))


@pytest.mark.parametrize(
    "name",
    [
        "invalid_format.yml",
        "wrong_response_format.yml",
        "wrong_custom_response_format.yml",
        "empty_response_format.yml",
    ],
)
def test_domains_rasas_schema_refuses_are_refused(name: str) -> None:
    """test_validate_yaml_schema_raise_exception."""
    with pytest.raises(ParlezError) as refused:
        Domain.load(rasa_data("test_domains", name))
    assert refused.value.where is not None and refused.value.where.line


def test_names_repeated_across_the_files_of_a_domain_folder_are_merged() -> None:
    """test_domain_with_duplicates: the duplicates are removed, with a warning here."""
    with collect() as warnings:
        domain = Domain.load(rasa_data("test_domains", "test_domain_with_duplicates"))
    assert {"greet", "goodbye", "mood_great", "mood_unhappy"} <= set(domain.intents)
    assert domain.responses["utter_greet"] == [{"text": "Hey! How are you?"}]
    assert {w.code for w in warnings} == {"P133"}


def test_a_broken_file_in_a_domain_folder_is_skipped_with_a_warning() -> None:
    """test_load_from_directory_with_invalid_file (or its like): a UserWarning naming the
    file, and the valid files loaded."""
    with collect() as warnings:
        domain = Domain.load(rasa_data("test_domains", "test_domain_from_directory"))
    assert domain.intents
    assert [w.code for w in warnings] == ["P134"]
    assert warnings[0].where is not None
    assert warnings[0].where.path.endswith("domain_invalid.yml")


def test_a_domain_folder_whose_every_file_is_broken_is_refused(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "a.yml").write_text("intents: [greet\n", encoding="utf-8")
    with pytest.raises(YamlSyntaxError):
        Domain.load(tmp_path / "domain")


def test_use_entities_null_means_no_entities() -> None:
    """test_collect_intent_properties: `use_entities: None` -> used_entities []."""
    domain = Domain.from_yaml(
        "intents:\n- greet:\n    use_entities: null\n- inform\nentities: [city, name]\n"
    )
    assert domain.intents["greet"].use_entities == []
    assert domain.intents["inform"].use_entities is None  # all


def test_an_empty_form_is_refused(tmp_path: Path) -> None:
    """Rasa 3 needs required_slots (test_schema_error_..._without_required_slots_key)."""
    with pytest.raises(SchemaError, match="form 'booking_form' is empty"):
        Domain.from_yaml("forms:\n  booking_form:\n")


def test_an_empty_responses_key_is_read_as_none_with_a_warning() -> None:
    """Rasa's schema refuses it; parlez reads it as no responses and says so (P136)."""
    with collect() as warnings:
        domain = Domain.from_yaml("intents: [greet]\nresponses:\n")
    assert domain.responses == {}
    assert [w.code for w in warnings] == ["P136"]


# ---- NLU ----------------------------------------------------------------------------------


def test_an_annotation_with_another_value_records_a_synonym(tmp_path: Path) -> None:
    """As Rasa's YAML reader adds synonyms from entity annotations."""
    path = tmp_path / "nlu.yml"
    path.write_text(
        "nlu:\n"
        "- intent: inform\n"
        "  examples: |\n"
        '    - I live in [NYC]{"entity": "city", "value": "New York"}\n'
        "    - to [Big Apple](city:New York) please\n"
        "    - from [Paris](city)\n",
        encoding="utf-8",
    )
    data, warnings = read(path)
    assert data.nlu.entity_synonyms == {"NYC": "New York", "Big Apple": "New York"}
    assert warnings == []


def test_example_metadata_has_rasas_shape(tmp_path: Path) -> None:
    """Rasa keeps the intent's metadata under 'intent' and the example's under 'example'."""
    path = tmp_path / "nlu.yml"
    path.write_text(
        "nlu:\n"
        "- intent: greet\n"
        "  metadata: {sentiment: neutral}\n"
        "  examples:\n"
        "  - text: hi\n"
        "    metadata: {source: web}\n",
        encoding="utf-8",
    )
    data, _ = read(path)
    assert data.nlu.examples[0].metadata == {
        "intent": {"sentiment": "neutral"},
        "example": {"source": "web"},
    }


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("test_base_retrieval_intent_story.yml", []),
        ("non_test_full_retrieval_intent_story.yml", ["P155"]),
    ],
)
def test_a_training_story_naming_a_full_retrieval_intent_is_warned_about(
    name: str, codes: list[str]
) -> None:
    """test_story_with_retrieval_intent_warns: a warning for the training story only."""
    data, warnings = read(rasa_data("test_yaml_stories", name))
    assert [w.code for w in warnings] == codes
    user = next(e for e in story_trackers(data.stories)[0].events if isinstance(e, UserUttered))
    assert user.intent["name"] == "chitchat"


def test_a_test_story_may_name_the_full_retrieval_intent(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    path = tests / "test_chitchat.yml"
    path.write_text(
        "stories:\n- story: name\n  steps:\n  - intent: chitchat/ask_name\n"
        "  - action: utter_chitchat/ask_name\n",
        encoding="utf-8",
    )
    _, warnings = read(path)
    assert warnings == []
