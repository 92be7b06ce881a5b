"""Test stories with retrieval intents, on Rasa's own `test_response_selector_bot`: a step
`intent: chitchat/ask_name` then `action: utter_chitchat/ask_name` passes when the
ResponseSelector chose that response, and fails, naming what it chose, when it did not."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from parlez.agent import Agent
from parlez.diagnostics import collect
from parlez.evaluation.stories import evaluate_stories, story_yaml
from parlez.project import Project
from parlez.training import train
from tests.conftest import shared_path


def test_full_retrieval_intents_and_actions_are_compared_as_rasa_compares_them(
    tmp_path: Path,
) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(shared_path("compat", "rasa-3.0.4", "data", "test_response_selector_bot"), bot)
    project = Project(bot)
    with collect():
        agent = Agent.load(train(project, tmp_path / "models").archive)
        evaluation = asyncio.run(evaluate_stories(agent, project.test_stories))
    passed = [s.name.split(" - ")[0] for s in evaluation.stories if not s.failed]
    assert passed == ["test.csv 0", "test.csv 3"]
    written = story_yaml(evaluation.failed)
    # the full response the selector chose, where the story expected another
    assert "action: utter_chitchat/ask_weather  # predicted: utter_chitchat/ask_name" in written
    # the full retrieval intent is written back as the story gave it
    assert "intent: chitchat/ask_name\n" in written
    assert "action: utter_goodbye  # predicted: utter_chitchat" in written
