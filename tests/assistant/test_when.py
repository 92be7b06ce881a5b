"""What customers say about when, read part by part and kept across their messages: a time
alone keeps the day said before, a day alone keeps the time, "instead" replaces only what
it names, and spoken and mistyped times are read as a receptionist would read them."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.business import REPO_SETTINGS, Business, business
from actions.when import Reader, When, shift

LONDON = dt.UTC  # Europe/London is UTC in March before the clocks change
NOW = dt.datetime(2027, 3, 3, 9, 30, tzinfo=LONDON)  # a Wednesday


@pytest.fixture(scope="module")
def settings() -> Business:
    return business(REPO_SETTINGS)


def march(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=LONDON)


def after(settings: Business, *messages: str, locale: str = "en_GB") -> When:
    reader = Reader(settings, NOW, locale)
    when = When()
    for message in messages:
        when = when.then(reader.read(message))
    return when


def start_after(settings: Business, *messages: str, locale: str = "en_GB") -> dt.datetime | None:
    wanted = after(settings, *messages, locale=locale).wanted(settings, NOW)
    return wanted.start if wanted else None


@pytest.mark.parametrize(
    ("messages", "start"),
    [
        (["Actually, March 8th is better", "Change it to 2 pm"], march(8, 14)),
        (["I want the appointment for 5th of march", "Make it for 5:15 in the evening"], march(5, 17, 15)),
        (["the 11th of March", "1:30 in the afternoon"], march(11, 13, 30)),
        (["friday", "10am"], march(5, 10)),
        (["next wednesday", "at 11 if possible"], march(10, 11)),
        (["is monday ok?", "at 9 then"], march(8, 9)),
    ],
)  # fmt: skip
def test_a_time_alone_keeps_the_day_said_before(
    settings: Business, messages: list[str], start: dt.datetime
) -> None:
    assert start_after(settings, *messages) == start


def test_a_day_alone_keeps_the_time_said_before(settings: Business) -> None:
    assert start_after(settings, "tomorrow at 3pm", "the 11th of this month instead") == march(
        11, 15
    )
    assert start_after(settings, "at 3", "on friday") == march(5, 15)
    assert start_after(settings, "friday afternoon", "at 3") == march(5, 15)


@pytest.mark.parametrize(
    ("messages", "start"),
    [
        (["Set it at 4:30 pm, and have it on March 9th instead"], march(9, 16, 30)),
        (["tomorrow at 3pm", "change the time to 11:45 am and the date to the 12th of March"], march(12, 11, 45)),
        (["march 16 at 9", "change the date to the 17th"], march(17, 9)),
        (["the 9th at 9am", "Please make it 11 in the morning"], march(9, 11)),
        (["friday at 11", "make it 12:30 instead"], march(5, 12, 30)),
        (["friday at 11", "hmm, 12 noon would be better"], march(5, 12)),
    ],
)  # fmt: skip
def test_instead_and_change_replace_only_what_they_name(
    settings: Business, messages: list[str], start: dt.datetime
) -> None:
    assert start_after(settings, *messages) == start


@pytest.mark.parametrize(
    ("said", "start"),
    [
        ("friday morning 10:30", march(5, 10, 30)),
        ("friday afternoon 1", march(5, 13)),
        ("friday evening 5", march(5, 17)),
        ("friday at half past four", march(5, 16, 30)),
        ("friday at quarter to 3", march(5, 14, 45)),
        ("friday at noon", march(5, 12)),
        ("friday at half 11", march(5, 11, 30)),  # British: 11:30
        ("tuesday week at 10", march(16, 10)),  # British: not the coming Tuesday, the 9th
        ("a week on friday, half 2", march(12, 14, 30)),
        ("Next Thursday in the morning 10:30", march(11, 10, 30)),
        ("2:30 in the afternoon on the 10th of March", march(10, 14, 30)),
    ],
)
def test_times_are_read_the_way_people_say_them(
    settings: Business, said: str, start: dt.datetime
) -> None:
    assert start_after(settings, said) == start


def test_after_lunch_is_a_part_of_the_day_it_is_said_of(settings: Business) -> None:
    wanted = after(settings, "friday", "after lunch").wanted(settings, NOW)
    assert wanted is not None and wanted.period == (march(5, 13), march(5, 17))


def test_an_hour_with_an_am_or_pm_doubt_is_the_open_one_on_that_day_only(
    settings: Business,
) -> None:
    # 00:30 and 12:30 on the 10th: the studio is open at 12:30
    assert start_after(settings, "The 10th at half past 12") == march(10, 12, 30)
    # Sunday the 7th is closed all day: the day stays, never another month's 7th
    closed = start_after(settings, "The 7th at half past 12")
    assert closed is not None and closed.date() == dt.date(2027, 3, 7)
    # an hour said alone, after it has passed today, is tomorrow's when the studio is open
    assert start_after(settings, "at 9") == march(4, 9)


def test_a_weekday_after_next_week_is_next_weeks(settings: Business) -> None:
    assert start_after(settings, "next week", "wednesday at 2:30pm") == march(10, 14, 30)


def test_mistyped_days_and_months_are_read(settings: Business) -> None:
    assert start_after(settings, "tommorow at 3pm") == march(4, 15)
    assert start_after(settings, "thursdy at 10") == march(4, 10)
    assert start_after(settings, "teusday", "at 10am") == march(9, 10)
    assert start_after(settings, "the 8th of mrach at 2pm") == march(8, 14)


def test_an_answer_to_the_name_question_is_not_read_for_a_month_or_a_typo(
    settings: Business,
) -> None:
    reader = Reader(settings, NOW)
    assert not reader.read("April Jones", months=False)
    assert not reader.read("Fridah Okafor", months=False)
    assert reader.read("Actually, the 11th of this month instead", months=False).day == dt.date(
        2027, 3, 11
    )


def test_the_parts_survive_the_slots_they_are_kept_in(settings: Business) -> None:
    for messages in (
        ["next week", "wednesday"],
        ["at 9"],
        ["friday", "after lunch"],
        ["March 8th", "2 pm"],
    ):
        when = after(settings, *messages)
        kept = When.from_slots(when.slots())
        assert kept.wanted(settings, NOW) == when.wanted(settings, NOW), messages
    assert not When.from_slots({"appointment_day": "not a date"})


def test_other_languages_keep_their_parts_too(settings: Business) -> None:
    assert start_after(settings, "vendredi", "à 14h", locale="fr_FR") == march(5, 14)
    assert start_after(settings, "am Freitag", "um 15 Uhr", locale="de_DE") == march(5, 15)
    assert start_after(settings, "el lunes", "a las 4 de la tarde", locale="es_ES") == march(8, 16)


def test_this_morning_is_today_even_once_it_has_passed(settings: Business) -> None:
    afternoon = dt.datetime(2027, 3, 3, 14, 0, tzinfo=LONDON)
    reader = Reader(settings, afternoon)
    wanted = reader.read("this morning at 10").wanted(settings, afternoon)
    assert wanted is not None and wanted.start == march(3, 10)  # past: refused, not tomorrow


def test_an_article_is_not_one_o_clock(settings: Business) -> None:
    reader = Reader(settings, NOW, "es_ES")
    assert not reader.read("hola, quiero pedir cita para un corte de pelo")
    assert start_after(settings, "el lunes a la una", locale="es_ES") == march(8, 13)


def test_short_forms_of_tomorrow_are_read(settings: Business) -> None:
    assert start_after(settings, "tmrw at 4pm") == march(4, 16)
    assert start_after(settings, "2moro at 11") == march(4, 11)


def test_an_article_after_a_day_is_not_one_o_clock_either(settings: Business) -> None:
    """Duckling reads "mañana para un" as one expression, tomorrow at one: the day is kept,
    and the time is still to be asked."""
    reader = Reader(settings, NOW, "es_ES")
    when = reader.read("buenas, tienen hueco mañana para un tinte?")
    assert when.day == dt.date(2027, 3, 4) and when.day_said and not when.clocks
    assert reader.read("el viernes para una coloración").day == dt.date(2027, 3, 5)
    assert not reader.read("el viernes para una coloración").clocks
    assert start_after(settings, "mañana a la una", locale="es_ES") == march(4, 13)


def test_an_english_abbreviation_in_another_language_is_no_day(settings: Business) -> None:
    """A French message is read in English too when French finds no time ("tomorrow at
    3pm" in a French conversation), but "mon" of "de mon brushing" is "my", not Monday."""
    reader = Reader(settings, NOW, "fr_FR")
    assert not reader.read("est-ce qu'on peut changer l'heure de mon brushing ?")
    assert start_after(settings, "tomorrow at 3pm", locale="fr_FR") == march(4, 15)


@pytest.mark.parametrize(
    ("said", "language", "minutes"),
    [
        ("an hour later please", "en", 60),
        ("can I push my appointment back an hour", "en", 60),
        ("bring it forward 2 hours", "en", -120),
        ("half an hour earlier?", "en", -30),
        ("30 mins later", "en", 30),
        ("une demi-heure plus tôt", "fr", -30),
        ("zwei Stunden später bitte", "de", 120),
        ("una hora más tarde", "es", 60),
    ],
)
def test_a_shift_is_read_with_its_direction(said: str, language: str, minutes: int) -> None:
    assert shift(said, language) == dt.timedelta(minutes=minutes)


def test_a_time_or_an_amount_without_a_direction_is_no_shift() -> None:
    for said, language in (
        ("friday at 11am", "en"),
        ("in an hour", "en"),
        ("it takes an hour", "en"),
        ("je peux venir à 15h après le travail", "fr"),
        ("move it back to 3pm", "en"),
    ):
        assert shift(said, language) is None, said
