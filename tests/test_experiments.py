"""experiments.yml: read with its lines named when wrong, and each sender put in one arm,
the same every time, in the shares the file gives."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from parlez.experiments import Experiment, ExperimentFileError, Experiments, settings_of
from tests.conftest import write

FILE = """\
# A/B tests
experiments:
  greeting:
    arms: [a, b]
    metric: resolved
  handoff_wording:
    arms: {short: 90, long: 10}
    metric: booked
    min_sample: 200
    status: stopped
"""


def test_the_file_is_read_with_its_defaults(tmp_path: Path) -> None:
    write(tmp_path / "experiments.yml", FILE)
    found = Experiments.load(tmp_path, outcomes=("booked",))
    greeting = found.named("greeting")
    assert greeting is not None and greeting.slot_name == "experiment_greeting"
    assert (greeting.min_sample, greeting.alpha, greeting.running) == (400, 0.05, True)
    assert [e.name for e in found.running] == ["greeting"]
    assert Experiments.load(tmp_path / "nowhere") == Experiments()


def test_a_sender_stays_in_one_arm_and_the_arms_get_their_shares() -> None:
    even = Experiment("greeting", (("a", 1.0), ("b", 1.0)))
    assert {even.arm_for("ana") for _ in range(5)} == {even.arm_for("ana")}
    shares = Counter(even.arm_for(f"visitor-{n}") for n in range(20_000))
    assert abs(shares["a"] / 20_000 - 0.5) < 0.02
    skewed = Experiment("wording", (("short", 90.0), ("long", 10.0)))
    shares = Counter(skewed.arm_for(f"visitor-{n}") for n in range(20_000))
    assert abs(shares["long"] / 20_000 - 0.1) < 0.01


def test_two_experiments_split_the_same_senders_independently() -> None:
    one = Experiment("one", (("a", 1.0), ("b", 1.0)))
    two = Experiment("two", (("a", 1.0), ("b", 1.0)))
    pairs = Counter((one.arm_for(f"v{n}"), two.arm_for(f"v{n}")) for n in range(20_000))
    assert all(abs(count / 20_000 - 0.25) < 0.02 for count in pairs.values())


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("experiments:\n  g: {arms: [a]}\n", 2, "two arms or more"),
        ("experiments:\n  g: {arms: [a, b], metric: sales}\n", 2, "'sales', which is not counted"),
        ("experiments:\n  g: {arms: [a, b], colour: red}\n", 2, "unknown key 'colour'"),
        ("experiments:\n  g:\n    arms: [a, b]\n    alpha: 5\n", 4, "'alpha' is a false-positive"),
        ("experiments:\n  g:\n    arms: [a, b]\n    min_sample: 3\n", 4, "'min_sample'"),
        ("experiments:\n  g: {arms: {a: 1, b: -1}}\n", 2, "a mapping of names to shares"),
        ("experiments:\n  g: {arms: [a, b], status: paused}\n", 2, "running or stopped"),
        (
            "experiments:\n  g:\n    arms: [a, b]\n    settings:\n      c: {knowledge_llm: no}\n",
            5,
            "no arm 'c'",
        ),
        (
            "experiments:\n  g:\n    arms: [a, b]\n    settings:\n      b:\n        llm: false\n",
            6,
            "'llm' is not a setting",
        ),
        (
            "experiments:\n  g:\n    arms: [a, b]\n    settings:\n      b:\n"
            "        knowledge_min_confidence: 70\n",
            6,
            "a number from 0 to 1",
        ),
        (
            "experiments:\n  g:\n    arms: [a, b]\n    settings:\n      b:\n"
            "        knowledge_llm: maybe\n",
            6,
            "true or false",
        ),
    ],
)
def test_a_broken_file_names_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    write(tmp_path / "experiments.yml", text)
    with pytest.raises(ExperimentFileError) as raised:
        Experiments.load(tmp_path)
    assert words in raised.value.message
    assert raised.value.where is not None and raised.value.where.line == line


SETTINGS = """\
experiments:
  kb_bar:
    arms: [usual, strict]
    settings:
      strict: {knowledge_min_confidence: 0.8, knowledge_margin: 0.1}
  kb_llm:
    arms: [llm, written]
    metric: booked
    settings:
      written: {knowledge_llm: false}
"""


def test_an_arm_changes_the_settings_it_names_for_its_conversations_only(
    tmp_path: Path,
) -> None:
    """An action reads the settings of the arms of the conversation's latest session, from
    the events it is given; an arm without settings, a past session's arm and an
    experiment no longer in the file change nothing."""
    write(tmp_path / "experiments.yml", SETTINGS)

    def arms(*pairs: tuple[str, str]) -> list[dict[str, str]]:
        return [{"event": "experiment", "experiment": e, "arm": a} for e, a in pairs]

    started = [{"event": "session_started"}]
    assert settings_of(tmp_path, started + arms(("kb_bar", "strict"), ("kb_llm", "written"))) == {
        "knowledge_min_confidence": 0.8,
        "knowledge_margin": 0.1,
        "knowledge_llm": False,
    }
    assert settings_of(tmp_path, started + arms(("kb_bar", "usual"), ("kb_llm", "llm"))) == {}
    past = arms(("kb_llm", "written")) + started + arms(("kb_llm", "llm"), ("gone", "b"))
    assert settings_of(tmp_path, past) == {}
    # the file changed while the assistant runs: the next message reads it again
    write(tmp_path / "experiments.yml", SETTINGS.replace("0.8", "0.9"))
    os.utime(tmp_path / "experiments.yml", (1, 1))
    assert settings_of(tmp_path, arms(("kb_bar", "strict")))["knowledge_min_confidence"] == 0.9
    assert settings_of(tmp_path / "nowhere", arms(("kb_bar", "strict"))) == {}
