"""Free times follow the business's hours, the calendar, notice and closed days; times are
read as customers say them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.business import REPO_SETTINGS, Business, BusinessSettingsError, business
from actions.integrations.calendar import Appointment, LocalCalendar, SlotTakenError
from actions.scheduling import free_starts, is_free, names_a_weekday, spoken, suggestions
from actions.when import understand_time
from parlez.io.yaml_edit import set_value
from tests.assistant.conftest import local_calendar
from tests.conftest import write

LONDON = dt.UTC  # Europe/London is UTC in November
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)  # a Wednesday


@pytest.fixture
def settings() -> Business:
    return business(REPO_SETTINGS)


@pytest.fixture
def calendar(tmp_path: Path) -> LocalCalendar:
    return local_calendar(tmp_path)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("said", "start"),
    [
        ("tomorrow at 3pm", at(26, 15)),
        ("tomorrow at four in the evening", at(26, 16)),  # Duckling alone reads 04:00
        ("friday at 9:30", at(27, 9, 30)),
        # an hour without am/pm is the one when the studio is open
        ("thursday at half past four", at(26, 16, 30)),
        ("tomorrow at 9", at(26, 9)),
        ("sunday at 4", at(29, 4)),  # closed all day: Duckling's first reading stays
        ("2026-11-28T10:00:00+00:00", at(28, 10)),  # a button's payload
    ],
)
def test_exact_times_are_read_in_the_business_time_zone(
    settings: Business, said: str, start: dt.datetime
) -> None:
    wanted = understand_time(said, settings, NOW)
    assert wanted is not None and wanted.start == start


def test_a_day_or_part_of_a_day_is_a_period(settings: Business) -> None:
    day = understand_time("on friday", settings, NOW)
    assert day is not None and day.start is None and day.period is not None
    assert day.period[0].date() == dt.date(2026, 11, 27)
    afternoon = understand_time("tomorrow afternoon", settings, NOW)
    assert afternoon is not None and afternoon.period is not None
    assert afternoon.period[0].hour == 12 and afternoon.period[0].day == 26
    assert understand_time("whenever suits you", settings, NOW) is None


def test_free_times_keep_to_hours_notice_and_bookings(
    settings: Business, calendar: LocalCalendar
) -> None:
    haircut = settings.service("haircut")
    assert haircut is not None
    today = free_starts(settings, calendar, haircut, at(25, 0), at(26, 0), NOW)
    assert today[0] == at(25, 11)  # an hour's notice
    assert today[-1] == at(25, 17, 15)  # 45 minutes before closing at 18:00
    calendar.book(Appointment("haircut", at(25, 12), at(25, 12, 45)))
    after = free_starts(settings, calendar, haircut, at(25, 0), at(26, 0), NOW)
    assert at(25, 11, 30) not in after and at(25, 12, 15) not in after
    assert at(25, 11, 15) in after and at(25, 12, 45) in after
    sunday = free_starts(settings, calendar, haircut, at(29, 0), at(30, 0), NOW)
    assert sunday == []  # closed on Sundays


def test_closed_dates_have_no_times(settings: Business, calendar: LocalCalendar) -> None:
    colouring = settings.service("highlights")
    assert colouring is not None and colouring.name == "colouring"
    christmas = dt.datetime(2026, 12, 25, tzinfo=LONDON)
    assert (
        free_starts(settings, calendar, colouring, christmas, christmas + dt.timedelta(days=1), NOW)
        == []
    )


def test_a_taken_time_gets_the_nearest_free_ones(
    settings: Business, calendar: LocalCalendar
) -> None:
    haircut = settings.service("cut")
    assert haircut is not None
    calendar.book(Appointment("haircut", at(26, 15), at(26, 15, 45)))
    assert not is_free(settings, calendar, haircut, at(26, 15), NOW)
    wanted = understand_time("tomorrow at 3pm", settings, NOW)
    assert wanted is not None
    offers = suggestions(settings, calendar, haircut, wanted, NOW)
    # 14:30 would overlap the booking at 15:00; 14:00 and 16:00 are equally near.
    assert offers == [at(26, 14), at(26, 14, 15), at(26, 15, 45)]
    assert spoken(offers[1], settings, NOW) == "tomorrow at 14:15"


def test_the_calendar_refuses_an_overlapping_booking(calendar: LocalCalendar) -> None:
    calendar.book(Appointment("haircut", at(26, 15), at(26, 15, 45), email="a@x.org"))
    with pytest.raises(SlotTakenError):
        calendar.book(Appointment("beard trim", at(26, 15, 30), at(26, 15, 50)))
    (booked,) = calendar.upcoming("A@X.org", NOW)
    calendar.cancel(booked.id)
    calendar.book(Appointment("beard trim", at(26, 15, 30), at(26, 15, 50)))


def test_broken_settings_name_the_file_and_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "business.yml", "name: X\ntimezone: Mars/Olympus\nhours:\n  funday: []\n"
    )
    with pytest.raises(BusinessSettingsError) as error:
        business(path)
    assert "Mars/Olympus" in error.value.message and "funday" in error.value.message
    assert "business.yml" in str(error.value.where)


def test_a_closed_day_is_offered_the_next_open_day(
    settings: Business, calendar: LocalCalendar
) -> None:
    beard = settings.service("beard")
    assert beard is not None
    sunday = understand_time("on sunday", settings, NOW)
    assert sunday is not None
    offers = suggestions(settings, calendar, beard, sunday, NOW)
    assert {o.date() for o in offers} == {dt.date(2026, 11, 30)}  # Monday
    assert offers[0] == at(30, 9)


def test_a_service_is_found_with_spaces_for_hyphens_and_inside_a_sentence(
    settings: Business,
) -> None:
    blow_dry = settings.service("blow-dry")
    assert blow_dry is not None
    assert settings.service("Blow dry") is blow_dry
    assert settings.service("I want a blow dry on friday at 5pm") is blow_dry
    assert settings.service("blow") is None


def test_a_service_named_as_part_of_a_compound_word_is_that_service(settings: Business) -> None:
    """German joins words: "Bartschneiden" is a beard trim (its close spelling, "Haare
    schneiden", is a haircut), "Kinderhaarschnitt" a haircut; a close spelling still counts."""
    beard, haircut = settings.service("beard"), settings.service("haircut")
    assert settings.service("Kann ich morgen früh zum Bartschneiden kommen?") is beard
    assert settings.service("Kinderhaarschnitt") is haircut
    assert settings.service("colours") is settings.service("colouring")
    assert settings.service("Bartschneiden", close=False) is None  # a name, when not close


def test_highlights_are_colouring_in_every_language(settings: Business) -> None:
    colouring = settings.service("colouring")
    for said in ("mèches", "Strähnchen", "mechas", "balayage"):
        assert settings.service(said) is colouring, said


def test_a_weekday_is_told_by_its_whole_name_in_any_language() -> None:
    assert names_a_weekday("wednesday at 2:30pm") and names_a_weekday("Mittwoch um 14 Uhr")
    assert not names_a_weekday("tomorrow at 3pm")
    assert not names_a_weekday("tomorrow at 3 with my son")  # "son" is not Sonntag
    assert names_a_weekday("¿el miércoles?")


def test_hours_changed_in_the_file_decide_the_next_booking_without_a_restart(
    tmp_path: Path, calendar: LocalCalendar
) -> None:
    """The console writes business.yml in place while the assistant runs: the next look at
    the settings sees the new hours."""
    path = write(tmp_path / "business.yml", REPO_SETTINGS.read_text(encoding="utf-8"))
    haircut = business(path).service("haircut")
    assert haircut is not None
    assert free_starts(business(path), calendar, haircut, at(29, 0), at(30, 0), NOW) == []
    path.write_text(set_value(path.read_text(), ["hours", "sunday"], ["11:00-15:00"]))
    sunday = free_starts(business(path), calendar, haircut, at(29, 0), at(30, 0), NOW)
    assert sunday[0] == at(29, 11) and sunday[-1] == at(29, 14, 15)
