"""The agent is the one door into a conversation: every change holds its lock."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import CollectingOutputChannel, UserMessage
from parlez.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from parlez.tracker import DialogueStateTracker

pytestmark = pytest.mark.anyio

Change = Callable[[Agent], Awaitable[Any]]

CHANGES: dict[str, Change] = {
    "append_events": lambda agent: agent.append_events("visitor", [SlotSet("city", "Oslo")]),
    "replace": lambda agent: agent.replace(
        DialogueStateTracker.from_events("visitor", [SlotSet("city", "Oslo")])
    ),
    "log_only": lambda agent: agent.log_only(UserMessage("I am in Oslo", None, "visitor")),
    "execute_action": lambda agent: agent.execute_action(
        "visitor", "utter_goodbye", CollectingOutputChannel()
    ),
    "trigger_intent": lambda agent: agent.trigger_intent(
        "visitor", "greet", None, CollectingOutputChannel()
    ),
    "handle_message": lambda agent: agent.handle_text("hello", "visitor"),
}


async def _waiting_for_the_lock(agent: Agent, sender_id: str, waiters: int) -> None:
    # A condition, not a delay: the lock store counts who holds or waits for each lock.
    while agent.lock_store._users.get(sender_id, 0) < waiters:
        await asyncio.sleep(0)


@pytest.mark.parametrize("change", sorted(CHANGES))
async def test_a_change_waits_until_the_conversation_is_free(
    small_model: Path, change: str
) -> None:
    agent = Agent.load(small_model)
    async with agent.lock_store.lock("visitor"):
        task = asyncio.ensure_future(CHANGES[change](agent))
        await asyncio.wait_for(_waiting_for_the_lock(agent, "visitor", 2), 60)
        assert not task.done()
        assert await agent.retrieve("visitor") is None
    await task
    assert await agent.retrieve("visitor") is not None


async def test_appended_bot_messages_go_to_the_output_given(small_model: Path) -> None:
    agent = Agent.load(small_model)
    output = CollectingOutputChannel()
    tracker = await agent.append_events("visitor", [BotUttered("A person will answer")], output)
    assert [m["text"] for m in output.messages] == ["A person will answer"]
    assert tracker.events[-1] == (await agent.tracker("visitor")).events[-1]


async def test_an_action_runs_after_the_events_given_with_it(small_model: Path) -> None:
    agent = Agent.load(small_model)
    output = CollectingOutputChannel()
    tracker = await agent.execute_action(
        "visitor", "utter_city", output, events=[SlotSet("city", "Oslo")]
    )
    assert [m["text"] for m in output.messages] == ["You are in Oslo."]
    names = [type(e).__name__ for e in tracker.events[-3:]]
    assert names == ["SlotSet", "ActionExecuted", "BotUttered"]


async def test_an_unstarted_conversation_reads_as_empty_and_is_not_saved(
    small_model: Path,
) -> None:
    agent = Agent.load(small_model)
    assert (await agent.tracker("nobody")).events == []
    assert await agent.retrieve("nobody") is None


async def test_a_stepped_conversation_is_saved_when_the_person_is_done(
    small_model: Path,
) -> None:
    agent = Agent.load(small_model)
    output = CollectingOutputChannel()
    async with agent.step_by_step("designer", output) as steps:
        parsed = await steps.parse("hello")
        await steps.log_user(UserMessage("hello", output, "designer", parse_data=parsed))
        name, prediction = steps.predict()
        assert name == "utter_greet"
        assert await steps.run(name, prediction)
        assert await agent.retrieve("designer") is None  # nothing saved mid-way
    stored = await agent.retrieve("designer")
    assert stored is not None
    assert [e.intent_name for e in stored.events if isinstance(e, UserUttered)] == ["greet"]
    assert ActionExecuted("utter_greet") in [
        ActionExecuted(e.action_name) for e in stored.events if isinstance(e, ActionExecuted)
    ]


async def test_reading_after_the_turn_waits_for_the_answer_being_saved(small_model: Path) -> None:
    agent = Agent.load(small_model)
    async with agent.lock_store.lock("visitor"):
        reading = asyncio.ensure_future(agent.retrieve_after_turn("visitor"))
        await asyncio.wait_for(_waiting_for_the_lock(agent, "visitor", 2), 60)
        assert not reading.done()
        await agent.tracker_store.save(
            DialogueStateTracker.from_events("visitor", [SlotSet("city", "Oslo")])
        )
    tracker = await reading
    assert tracker is not None and len(tracker.events) == 1  # what was saved meanwhile


NETWORKS_CONFIG = """
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 5
policies:
  - name: TEDPolicy
    epochs: 5
"""
NETWORKS_STORIES = """
version: "3.1"
stories:
  - story: greet, then a city
    steps:
      - intent: greet
      - action: utter_greet
      - intent: inform
        entities: [{city: Paris}]
      - action: utter_city
"""


def test_a_model_of_diet_and_ted_is_served_without_importing_torch(
    small_project: Path, tmp_path: Path
) -> None:
    """Their networks are exported at training and served by ONNX Runtime: a server loads
    neither torch (1 s of its start, 200 MB) nor the networks' torch modules."""
    import subprocess
    import sys

    from parlez.project import Project
    from parlez.training import train

    project = tmp_path / "project"
    shutil.copytree(small_project, project)
    (project / "config.yml").write_text(NETWORKS_CONFIG, encoding="utf-8")
    (project / "data" / "stories.yml").write_text(NETWORKS_STORIES, encoding="utf-8")
    archive = train(Project(project), project / "models").archive
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from parlez.agent import Agent\n"
        f"agent = Agent.load(Path({str(archive)!r}))\n"
        "asyncio.run(agent.handle_text('hello', 'visitor'))\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.endswith('_network')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
