"""Small assistants built from YAML in the test itself: domain, stories, rules, policies."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any

from parlez.agent import Agent
from parlez.config import ComponentConfig
from parlez.core.actions.custom import CustomActionExecutor
from parlez.core.policies.ensemble import PolicyEnsemble
from parlez.core.training_trackers import TrainingTracker, rule_trackers, story_trackers
from parlez.domain import Domain
from parlez.io.yaml import read_yaml
from parlez.training_data.stories import StoryBlock, read_story_section

#: one intent for every mood: only the words of end-to-end stories tell the moods apart
MOOD_DOMAIN = """
version: "3.1"
intents: [greet, mood]
responses:
  utter_greet: [{text: "Hello"}]
  utter_cheer_up: [{text: "Here is a kitten."}]
  utter_happy: [{text: "Great to hear!"}]
"""


def domain(text: str) -> Domain:
    return Domain.from_yaml(textwrap.dedent(text))


def blocks(text: str, kind: str) -> list[StoryBlock]:
    raw = read_yaml(textwrap.dedent(text))
    return read_story_section(raw["stories" if kind == "story" else "rules"], kind)


def trackers(stories: str = "", rules: str = "") -> list[TrainingTracker]:
    found: list[TrainingTracker] = []
    if stories:
        found += story_trackers(blocks(stories, "story"))
    if rules:
        found += rule_trackers(blocks(rules, "rule"))
    return found


def ensemble(
    policies: list[dict[str, Any]], training: list[TrainingTracker], dom: Domain
) -> PolicyEnsemble:
    items = [
        ComponentConfig(p["name"], {k: v for k, v in p.items() if k != "name"}) for p in policies
    ]
    return PolicyEnsemble.from_config(items).train(training, dom)


def agent(
    dom: Domain,
    *,
    stories: str = "",
    rules: str = "",
    policies: list[dict[str, Any]] | None = None,
    custom: CustomActionExecutor | None = None,
) -> Agent:
    """An agent without NLU: tests send `/intent{"entity": "value"}` messages."""
    chosen = policies or [{"name": "MemoizationPolicy"}, {"name": "RulePolicy"}]
    return Agent(dom, ensemble(chosen, trackers(stories, rules), dom), None, custom=custom)


def say(bot: Agent, text: str, sender: str = "user") -> list[str]:
    """The texts the bot answers `text` with."""
    return [m.get("text") or "" for m in asyncio.run(bot.handle_text(text, sender))]


def events(bot: Agent, sender: str = "user") -> list[dict[str, Any]]:
    tracker = asyncio.run(bot.tracker_store.retrieve(sender))
    assert tracker is not None
    return [e.to_dict() for e in tracker.events]
