"""Moving an appointment in one conversation: found by e-mail, the new time checked (the old
one does not stand in its way), booked, the old time freed, the customer e-mailed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from parlez.agent import Agent
from tests.assistant.conftest import local_calendar, say, texts
from tests.assistant.test_booking import said_with
from tests.assistant.test_cancellation import booked

LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def appointments(studio: Path, email: str) -> list[tuple[str, int, int, int]]:
    found = local_calendar(studio).upcoming(email, LONG_AGO)
    return [(a.service, a.start.day, a.start.hour, a.start.minute) for a in found]


def test_an_appointment_is_moved_to_a_new_time(bot: Agent, studio: Path) -> None:
    booked(bot, "web-1", "anna@example.com")
    assert texts(say(bot, "/reschedule_appointment", "web-2")) == [
        "Which e-mail address did you book with?"
    ]
    assert texts(say(bot, "anna@example.com", "web-2")) == [
        "I found your haircut tomorrow at 15:00.",
        "When would you like to come instead? For example “Friday at 3pm”.",
    ]
    assert texts(say(bot, "friday at 11am", "web-2")) == [
        "Done: your haircut is now Friday 27 November at 11:00, and the old time is freed. "
        "The new time is on its way to anna@example.com.",
        "Is there anything else I can help with?",
    ]
    assert appointments(studio, "anna@example.com") == [("haircut", 27, 11, 0)]
    mails = [p.read_text() for p in (studio / "mail").glob("*.eml")]
    assert sum("Friday 27 November 2026 at 11:00" in m for m in mails) == 1


def test_a_move_may_overlap_the_old_time(bot: Agent, studio: Path) -> None:
    booked(bot, "same", "ben@example.com")  # tomorrow 15:00-15:45
    say(bot, "/reschedule_appointment", "same")  # the e-mail is known in this conversation
    done = texts(say(bot, "tomorrow at 15:15", "same"))
    assert done[0].startswith("Done: your haircut is now tomorrow at 15:15")
    assert appointments(studio, "ben@example.com") == [("haircut", 26, 15, 15)]


def test_a_taken_time_gets_free_times_and_the_old_one_stays(bot: Agent, studio: Path) -> None:
    booked(bot, "first", "cleo@example.com")  # tomorrow 15:00
    say(bot, "/book_appointment", "other")
    say(bot, '/inform{"service": "haircut"}', "other")
    say(bot, "friday at 10am", "other")
    say(bot, "Dan", "other")
    say(bot, "dan@example.com", "other")
    say(bot, "/affirm", "other")
    say(bot, "/reschedule_appointment", "first")
    offer = say(bot, "friday at 10am", "first")
    assert offer[0]["text"].startswith("Friday 27 November at 10:00 isn't available")
    assert offer[0]["buttons"]
    assert appointments(studio, "cleo@example.com") == [("haircut", 26, 15, 0)]


def test_no_appointment_to_move(bot: Agent) -> None:
    say(bot, "/reschedule_appointment", "nobody")
    assert texts(say(bot, "cy@example.com", "nobody")) == [
        "I can't find an upcoming appointment booked with cy@example.com.",
        "Is there anything else I can help with?",
    ]


def test_a_time_alone_moves_the_appointment_within_its_own_day(bot: Agent, studio: Path) -> None:
    """ "Can I change the time?" ... "at 4:30pm": the appointment tomorrow moves to 16:30
    tomorrow, not today, though 16:30 today is free too."""
    booked(bot, "time-only", "dora@example.com")  # tomorrow 15:00
    say(bot, "/reschedule_appointment", "time-only")
    done = texts(say(bot, "at 4:30pm", "time-only"))
    assert done[0].startswith("Done: your haircut is now tomorrow at 16:30")
    assert appointments(studio, "dora@example.com") == [("haircut", 26, 16, 30)]


def test_a_word_of_the_new_time_tagged_as_a_service_does_not_stall_the_move(
    bot: Agent, studio: Path
) -> None:
    """A model tagged "11h" of "vendredi à 11h" as a service: the appointment's haircut is
    still what the new time is checked for, and the move is made, not asked again."""
    booked(bot, "tagged", "emil@example.com")  # a haircut tomorrow at 15:00
    say(bot, "/reschedule_appointment", "tagged")
    say(bot, "emil@example.com", "tagged")
    done = said_with(bot, "friday at 11am", "inform", {"service": "11am"}, "tagged")
    assert texts(done)[0].startswith("Done: your haircut is now Friday 27 November at 11:00")
    assert appointments(studio, "emil@example.com") == [("haircut", 27, 11, 0)]


def test_an_hour_later_moves_the_appointment_from_its_own_time(bot: Agent, studio: Path) -> None:
    booked(bot, "later", "fay@example.com")  # a haircut tomorrow at 15:00
    say(bot, "/reschedule_appointment", "later")
    say(bot, "fay@example.com", "later")
    done = texts(say(bot, "an hour later please", "later"))
    assert done[0].startswith("Done: your haircut is now tomorrow at 16:00")
    assert appointments(studio, "fay@example.com") == [("haircut", 26, 16, 0)]


def test_a_shift_said_in_the_opening_needs_no_second_asking(bot: Agent, studio: Path) -> None:
    """ "Can I push my appointment back half an hour?": once the appointment is found by
    e-mail, it moves; the customer is not asked when again."""
    booked(bot, "push-1", "gil@example.com")  # a haircut tomorrow at 15:00
    said_with(
        bot, "can I push my appointment back half an hour?", "reschedule_appointment", {}, "push-2"
    )
    done = texts(say(bot, "gil@example.com", "push-2"))
    assert done[0] == "I found your haircut tomorrow at 15:00."
    assert done[1].startswith("Done: your haircut is now tomorrow at 15:30")
    assert appointments(studio, "gil@example.com") == [("haircut", 26, 15, 30)]


def test_a_move_right_after_a_booking_says_what_it_found_once(bot: Agent, studio: Path) -> None:
    """The e-mail is known from the booking: the appointment is found at once, said once,
    and the new time asked without a "didn't catch a day" for a time nobody gave."""
    booked(bot, "same", "hal@example.com")  # a haircut tomorrow at 15:00
    assert texts(say(bot, "/reschedule_appointment", "same")) == [
        "I found your haircut tomorrow at 15:00.",
        "When would you like to come instead? For example “Friday at 3pm”.",
    ]
    done = texts(said_with(bot, "an hour later", "inform", {}, "same"))
    assert done[0].startswith("Done: your haircut is now tomorrow at 16:00")
