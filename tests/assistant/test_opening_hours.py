"""The opening hours are told from business.yml, the hours bookings follow: the week with
the closed dates of the coming month, or the day asked about; a change is the next answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.agent import Agent
from parlez.io.yaml_edit import set_value
from tests.assistant.conftest import read_as, texts
from tests.assistant.test_language import said

#: the hours are asked through the knowledge base, whose entry names action_tell_hours
pytestmark = pytest.mark.usefixtures("knowledge_base")


def test_the_week_is_told_with_days_of_the_same_hours_together(bot: Agent) -> None:
    assert texts(read_as(bot, "when are you open?", "ask_hours")) == [
        "Our opening hours:\n"
        "- Monday–Friday: 09:00–18:00\n"
        "- Saturday: 10:00–16:00\n"
        "- Sunday: closed\n"
        # the clock says 25 November: Christmas is within the month, New Year is not
        "- Also closed on Friday 25 December, Saturday 26 December"
    ]


def test_a_day_asked_about_gets_that_days_hours_or_closed(bot: Agent) -> None:
    assert texts(read_as(bot, "are you open on saturday?", "ask_hours", "a")) == [
        "On Saturday 28 November we're open 10:00–16:00."
    ]
    assert texts(read_as(bot, "are you open on the 25th of december?", "ask_hours", "b")) == [
        "We're closed on Friday 25 December."
    ]
    said(bot, "/greet", "jonas", "de-DE")
    assert texts(read_as(bot, "habt ihr am Sonntag offen?", "ask_hours", "jonas")) == [
        "Am Sonntag, 29. November haben wir geschlossen."
    ]


def test_hours_changed_in_business_yml_are_the_next_answer(bot: Agent, studio: Path) -> None:
    settings = studio / "business.yml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(set_value(text, ["hours", "saturday"], ["09:00-13:00"]), encoding="utf-8")
    assert texts(read_as(bot, "are you open on saturday?", "ask_hours")) == [
        "On Saturday 28 November we're open 09:00–13:00."
    ]
