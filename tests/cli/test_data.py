from __future__ import annotations

import json
from pathlib import Path

import pytest

from parlez.cli.main import main
from parlez.project import DataFiles, read_data_file
from tests.conftest import nlu_file, write

DOMAIN = 'version: "3.1"\nintents: [greet, bye]\nresponses:\n  utter_greet:\n  - text: hi\n'
NLU = nlu_file("""
- intent: greet
  examples: |
    - hi
    - hello
    - hey
    - good morning
    - hi there
- intent: bye
  examples: |
    - bye
    - see you
    - goodbye
    - ciao
    - later
""")
RULES = (
    'version: "3.1"\nrules:\n- rule: greet\n  steps:\n  - intent: greet\n  - action: utter_greet\n'
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "domain.yml", DOMAIN)
    write(tmp_path / "config.yml", "assistant_id: test\nlanguage: en\npipeline: []\npolicies: []\n")
    write(tmp_path / "data" / "nlu.yml", NLU)
    write(tmp_path / "data" / "rules.yml", RULES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_exits_0_on_a_clean_project(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "validate"]) == 0
    assert "The project is valid" in capsys.readouterr().out


def test_validate_exits_1_and_names_the_problem(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / "data" / "stories.yml",
        'version: "3.1"\nstories:\n- story: s\n  steps:\n  - intent: hello\n  - action: utter_greet\n',
    )
    assert main(["data", "validate"]) == 1
    out = capsys.readouterr().out
    assert "error P210" in out and "data/stories.yml:5:5" in out and "'hello'" in out


def test_warnings_fail_only_with_fail_on_warnings(project: Path) -> None:
    write(project / "domain.yml", DOMAIN + "  utter_unused:\n  - text: x\n")
    assert main(["data", "validate"]) == 0
    assert main(["data", "validate", "--fail-on-warnings"]) == 1


def test_an_action_a_channel_runs_is_not_unused_and_a_bad_channel_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "domain.yml", DOMAIN + "actions:\n  - action_send_transcript\n")
    write(
        project / "credentials.yml",
        "connectors.webchat.WebChatInput:\n  transcript_action: action_send_transcript\n",
    )
    assert main(["data", "validate"]) == 0
    assert "P221" not in capsys.readouterr().out
    write(project / "credentials.yml", "socketoi:\n")
    assert main(["data", "validate"]) == 1
    assert "unknown channel 'socketoi'" in capsys.readouterr().out


def test_split_nlu_keeps_every_intent_on_both_sides(project: Path) -> None:
    assert main(["data", "split", "nlu", "--training-fraction", "0.6"]) == 0
    train, test = DataFiles(), DataFiles()
    read_data_file(project / "train_test_split" / "training_data.yml", train)
    read_data_file(project / "train_test_split" / "test_data.yml", test)
    assert len(train.nlu.examples) == 6 and len(test.nlu.examples) == 4
    assert train.nlu.intents == test.nlu.intents == {"greet", "bye"}


def test_convert_nlu_to_json_and_back(project: Path) -> None:
    assert (
        main(
            ["data", "convert", "nlu", "-f", "json", "--data", "data/nlu.yml", "--out", "converted"]
        )
        == 0
    )
    converted = project / "converted" / "nlu_converted.json"
    assert len(json.loads(converted.read_text())["rasa_nlu_data"]["common_examples"]) == 10
    assert (
        main(
            ["data", "convert", "nlu", "-f", "yaml", "--data", str(converted), "--out", "back.yml"]
        )
        == 0
    )
    back = DataFiles()
    read_data_file(project / "back.yml", back)
    assert [m.text for m in back.nlu.examples][:2] == ["hi", "hello"]


def test_a_converted_copy_left_in_the_data_folder_is_warned_about(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`data convert --out data/` writes the copy next to its original: both are read, every
    example twice. validate says so, naming the copy."""
    convert = ["data", "convert", "nlu", "-f", "json", "--data", "data/nlu.yml", "--out", "data"]
    assert main(convert) == 0
    capsys.readouterr()
    assert main(["data", "validate"]) == 0
    out = capsys.readouterr().out
    assert "warning P209" in out and "nlu_converted.json repeats 10 of the examples" in out
    (project / "data" / "nlu_converted.json").unlink()
    assert main(["data", "validate"]) == 0
    assert "P209" not in capsys.readouterr().out


def test_migrate_writes_a_new_domain(project: Path) -> None:
    write(
        project / "old.yml", 'version: "2.0"\nentities: [city]\nslots:\n  city:\n    type: text\n'
    )
    assert main(["data", "migrate", "-d", "old.yml", "--out", "migrated.yml"]) == 0
    assert (project / "migrated.yml").exists() and (project / "original_domain.yml").exists()


def test_data_without_a_subcommand_shows_help(project: Path) -> None:
    assert main(["data"]) == 2


def test_validate_without_a_domain_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["data", "validate"]) == 1
    out = capsys.readouterr().out
    assert "error P160" in out and "no domain file at 'domain.yml'" in out


def test_markdown_training_data_is_reported_not_silently_ignored(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "data" / "old_nlu.md", "## intent:greet\n- hi\n")
    assert main(["data", "validate"]) == 0
    assert "warning P116" in capsys.readouterr().out


def test_validate_catches_a_misspelt_component_name(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / "config.yml",
        "assistant_id: test\npipeline:\n  - name: WhitespaceTokeniser\npolicies: []\n",
    )
    assert main(["data", "validate"]) == 1
    out = capsys.readouterr().out
    assert "error P180 config.yml:3:5: unknown component 'WhitespaceTokeniser'" in out
    assert "did you mean 'WhitespaceTokenizer'?" in out


def test_validate_refuses_a_parameter_of_the_wrong_kind_at_its_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / "config.yml",
        "assistant_id: test\nlanguage: en\npipeline:\n- name: WhitespaceTokenizer\n"
        "- name: CountVectorsFeaturizer\n- name: DIETClassifier\n  epochs: xxx\n"
        "policies:\n- name: RulePolicy\n  core_fallback_threshold: true\n",
    )
    assert main(["data", "validate"]) == 1
    out = capsys.readouterr().out
    assert "error P184" in out and "config.yml:7:11" in out and "'epochs' is a number" in out


def test_numbers_given_as_whole_floats_and_per_part_sizes_are_accepted(project: Path) -> None:
    write(
        project / "config.yml",
        "assistant_id: test\nlanguage: en\npipeline:\n- name: WhitespaceTokenizer\n"
        "- name: CountVectorsFeaturizer\n- name: DIETClassifier\n  epochs: 10.0\n"
        "  hidden_layers_sizes: {text: [64], label: [32]}\n  random_seed: null\n"
        "policies:\n- name: RulePolicy\n",
    )
    assert main(["data", "validate"]) == 0


def test_validate_names_the_file_of_an_alias_bomb(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fuzzing import alias_bomb

    write(project / "data" / "bomb.yml", alias_bomb(9))
    assert main(["data", "validate"]) == 1
    out = capsys.readouterr().out
    assert "error P106 data/bomb.yml:" in out
