"""The defaults a training chose for a config.yml that leaves its pipeline or policies out are
written back into it as comments under the key, replacing those an earlier training wrote,
and keeping every other line of the file."""

from __future__ import annotations

from pathlib import Path

from parlez.autoconfig import HEADERS, write_suggestions
from parlez.config import DEFAULT_PIPELINE, DEFAULT_POLICIES, Config
from parlez.diagnostics import collect
from tests.conftest import write

BOTH = ("pipeline", "policies")


def _written(path: Path, parts: tuple[str, ...] = BOTH) -> list[str]:
    with collect():
        return write_suggestions(path, Config.load(path), parts)


def _uncommented(text: str) -> str:
    """The file as a designer makes it who uncomments the suggestions."""
    return "\n".join(
        line[2:] if line.startswith("#   ") else line
        for line in text.splitlines()
        if not line.startswith("# # ")
    )


def test_the_defaults_are_written_under_each_key_left_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yml", "language: en\npipeline:\npolicies:\n")
    assert _written(path) == ["pipeline", "policies"]
    lines = path.read_text().splitlines()
    assert lines[:5] == ["language: en", "pipeline:", *HEADERS["pipeline"]]
    assert lines[lines.index("policies:") + 1] == HEADERS["policies"][0]
    assert "#   - name: LanguageModelFeaturizer" in lines
    with collect():
        assert Config.load(path).defaulted == ["pipeline", "policies"]  # still comments


def test_uncommented_they_are_the_configuration_that_was_trained(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yml", "language: en\npipeline:\npolicies:\n")
    _written(path)
    with collect():
        config = Config.from_yaml(_uncommented(path.read_text()))
    assert config.defaulted == []
    assert [c.to_dict() for c in config.pipeline] == DEFAULT_PIPELINE
    assert [c.to_dict() for c in config.policies] == DEFAULT_POLICIES


def test_a_second_training_replaces_the_suggestion_instead_of_adding_one(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yml", "# mine\nlanguage: en\npipeline: []\n")
    _written(path)
    once = path.read_text()
    _written(path)
    assert path.read_text() == once
    assert once.count(HEADERS["pipeline"][0]) == once.count(HEADERS["policies"][0]) == 1


def test_a_key_the_file_lacks_is_added_at_its_end(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yml", "language: fr\npolicies:\n  - name: RulePolicy\n")
    assert _written(path) == ["pipeline"]
    lines = path.read_text().splitlines()
    assert lines[:3] == ["language: fr", "policies:", "  - name: RulePolicy"]
    assert lines[3:5] == ["pipeline:", HEADERS["pipeline"][0]]


def test_only_the_part_being_trained_is_written(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yml", "language: en\npipeline:\npolicies:\n")
    assert _written(path, ("pipeline",)) == ["pipeline"]
    assert HEADERS["policies"][0] not in path.read_text()


def test_a_configured_part_and_a_missing_file_are_left_alone(tmp_path: Path) -> None:
    text = (
        "language: en\npipeline:\n  - name: WhitespaceTokenizer\npolicies:\n  - name: RulePolicy\n"
    )
    path = write(tmp_path / "config.yml", text)
    assert _written(path) == []
    assert path.read_text() == text
    absent = tmp_path / "none.yml"
    assert _written(absent) == []
    assert not absent.exists()


def test_a_file_with_windows_line_ends_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_bytes(b"language: en\r\npipeline:\r\npolicies:\r\n")
    _written(path)
    written = path.read_bytes()
    assert written.count(b"\r\n") == written.count(b"\n") > 10
