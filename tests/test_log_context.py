"""With `--log-format json`, every line written while a conversation is handled names it
(`conversation_id`), so a log collector shows one conversation's lines."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from parlez.agent import Agent
from parlez.channels.channel import UserMessage
from parlez.cli.run import JsonLogFormatter
from parlez.log_context import about, stamp_conversations


def test_a_line_logged_about_a_conversation_names_it_and_others_do_not() -> None:
    stamp_conversations()
    logger = logging.getLogger("parlez.test")
    with about("ana"):
        inside = logger.makeRecord("parlez.test", logging.INFO, __file__, 1, "hi", (), None)
    outside = logger.makeRecord("parlez.test", logging.INFO, __file__, 1, "hi", (), None)
    formatter = JsonLogFormatter()
    assert json.loads(formatter.format(inside))["conversation_id"] == "ana"
    assert "conversation_id" not in json.loads(formatter.format(outside))


def test_the_agents_lines_while_it_answers_name_the_conversation(
    small_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stamp_conversations()
    agent = Agent.load(small_model)
    with caplog.at_level(logging.DEBUG, logger="parlez"):
        asyncio.run(agent.handle_message(UserMessage("hello", None, "ben")))
    during = [r for r in caplog.records if r.name.startswith("parlez.")]
    assert during, "the agent logged nothing while answering"
    assert {getattr(r, "conversation_id", None) for r in during} == {"ben"}
