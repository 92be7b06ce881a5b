"""analytics.yml: read with its defaults, and a broken one named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.console.analytics.config import (
    DEFAULT_FALLBACKS,
    AnalyticsConfig,
    AnalyticsFileError,
    Outcome,
    configured,
)
from tests.conftest import REPO, write


def test_without_the_file_nothing_is_an_outcome_and_rasas_fallbacks_count(
    tmp_path: Path,
) -> None:
    config = AnalyticsConfig.load(tmp_path, "Europe/Paris")
    assert config.outcomes == () and config.fallback_actions == DEFAULT_FALLBACKS
    assert config.timezone == "Europe/Paris"


def test_the_assistants_file_counts_bookings_and_leads() -> None:
    config = AnalyticsConfig.load(REPO)
    assert Outcome("booked", "action_book_appointment", sets="booking_id") in config.outcomes
    assert config.converting == ("booked", "lead")
    assert config.knowledge_actions == ("action_answer_from_kb",)
    assert config.ask_rating_after == ("utter_goodbye",)  # the assistant asks at its goodbye


def test_the_business_time_zone_is_the_default(tmp_path: Path) -> None:
    write(tmp_path / "business.yml", "name: Shop\ntimezone: America/New_York\n")
    config, problem = configured(tmp_path)
    assert problem is None and config.timezone == "America/New_York"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("outcome:\n  x: {action: a}\n", 1, "unknown key 'outcome'"),
        ("outcomes:\n  booked: {sets: booking_id}\n", 2, "needs an 'action:'"),
        ("outcomes:\n  booked: {action: a, slot: b}\n", 2, "unknown key 'slot'"),
        ("timezone: Mars/Olympus\n", 1, "not a time zone"),
        ("outcomes:\n  lead: {action: a}\nconversions: [sale]\n", 3, "'sale' is not one"),
        ("labels:\n  refund: {word: refund}\n", 2, "unknown test 'word'"),
        ("labels:\n  'big deal!': {keyword: deal}\n", 2, "is not a label"),
        ("labels:\n  angry: {sentiment: furious}\n", 2, "the sentiment is one of"),
        ("labels:\n  sold: {outcome: sale}\n", 2, "'sale' is no outcome"),
        ("labels:\n  x: {value: gold}\n", 2, "'value' goes with 'entity'"),
        ("labels:\n  x:\n", 2, "needs a rule"),
        ("weekly_report:\n  day: someday\n", 2, "not a day of the week"),
        ("weekly_report:\n  hour: 25\n", 2, "'hour' is 0 to 23"),
        ("weekly_report:\n  to: nobody\n", 2, "an e-mail address"),
        ("weekly_report:\n  every: week\n", 2, "unknown key 'every'"),
        ("ask_rating_after: {utter_goodbye: 1}\n", 1, "ask_rating_after"),
    ],
)
def test_a_broken_file_names_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    write(tmp_path / "analytics.yml", text)
    with pytest.raises(AnalyticsFileError) as raised:
        AnalyticsConfig.load(tmp_path)
    assert words in raised.value.message
    assert raised.value.where is not None and raised.value.where.line == line
    assert "analytics.yml" in str(raised.value.where)


def test_a_broken_file_is_reported_and_the_defaults_count(tmp_path: Path) -> None:
    write(tmp_path / "analytics.yml", "timezone: Mars/Olympus\n")
    config, problem = configured(tmp_path)
    assert problem is not None and config == AnalyticsConfig()


def test_a_change_of_what_is_counted_changes_the_digest() -> None:
    one = AnalyticsConfig(outcomes=(Outcome("lead", "action_save_lead"),))
    assert one.digest != AnalyticsConfig().digest
    assert one.digest == AnalyticsConfig(outcomes=(Outcome("lead", "action_save_lead"),)).digest


def test_label_rules_read_names_or_lists() -> None:
    rules = {rule.label: rule for rule in AnalyticsConfig.load(REPO).labels}
    assert rules["booked"].outcome == "booked"
    assert rules["unhappy"].sentiment == "negative"
    assert "gift voucher" in rules["gift-cards"].keywords


def test_broken_yaml_is_reported_too(tmp_path: Path) -> None:
    write(tmp_path / "analytics.yml", "labels:\n  x: [unclosed\n")
    config, problem = configured(tmp_path)
    assert problem is not None and "analytics.yml" in str(problem)
    assert config == AnalyticsConfig()


def test_the_weekly_report_is_sent_only_when_asked_for(tmp_path: Path) -> None:
    assert AnalyticsConfig.load(tmp_path).weekly_report is None
    write(tmp_path / "analytics.yml", "weekly_report:\n  day: friday\n  hour: 17\n")
    weekly = AnalyticsConfig.load(tmp_path).weekly_report
    assert weekly is not None and (weekly.to, weekly.day, weekly.hour) == ((), 4, 17)
