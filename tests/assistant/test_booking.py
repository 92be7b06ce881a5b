"""Booking through the assistant's own domain, rules and rasa_sdk actions: the time is
checked against the calendar, taken times get alternatives, a calendar that is down keeps
the request."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from parlez.agent import Agent
from parlez.channels.channel import UserMessage
from tests.assistant.conftest import (
    CALENDAR,
    NOW,
    book,
    calendar_down,
    local_calendar,
    read_as,
    say,
    texts,
    the_outbox,
)


def test_a_free_time_is_booked_into_the_calendar(bot: Agent, studio: Path) -> None:
    assert texts(say(bot, "/book_appointment")) == ["Which service would you like to book?"]
    assert "When would you like" in texts(say(bot, '/inform{"service": "a cut"}'))[0]
    assert "name" in texts(say(bot, "tomorrow at 3pm"))[0]
    assert "e-mail" in texts(say(bot, "Anna Lind"))[0]
    assert texts(say(bot, "anna@example"))[0].startswith("That doesn't look like an e-mail")
    assert texts(say(bot, "anna@example.com")) == [
        "Shall I book a haircut tomorrow, Thursday 26 November, at 15:00 (45 minutes) for "
        "Anna Lind? The confirmation will go to anna@example.com."
    ]
    assert not local_calendar(studio).upcoming(
        "anna@example.com", dt.datetime.fromisoformat(NOW)
    )  # nothing is booked before the yes
    done = texts(say(bot, "/affirm"))
    assert done[0] == (
        "You're booked, Anna Lind: a haircut tomorrow, Thursday 26 November, at 15:00 "
        "(45 minutes). We'll send the confirmation to anna@example.com."
    )
    assert done[1].startswith("Would you like to hear about our offers")  # asked once, after
    calendar = local_calendar(studio)
    (appointment,) = calendar.upcoming("anna@example.com", dt.datetime.fromisoformat(NOW))
    assert appointment.service == "haircut" and appointment.start.hour == 15


def test_a_taken_time_offers_the_nearest_free_ones(bot: Agent) -> None:
    book(bot, "first", "tomorrow at 3pm")
    say(bot, "Ben", "first")
    say(bot, "ben@example.com", "first")
    say(bot, "/affirm", "first")
    offer = book(bot, "second", "tomorrow at 3pm")
    assert offer[0]["text"] == "Tomorrow at 15:00 isn't available. Would one of these suit you?"
    buttons = offer[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "tomorrow at 14:00",
        "tomorrow at 14:15",
        "tomorrow at 15:45",
    ]
    assert "name" in texts(say(bot, buttons[2]["payload"], "second"))[0]  # a button click
    say(bot, "Cleo", "second")
    assert (
        "tomorrow, Thursday 26 November, at 15:45"
        in texts(say(bot, "cleo@example.com", "second"))[0]
    )


def test_a_closed_day_gets_times_on_the_nearest_open_ones(bot: Agent) -> None:
    offer = book(bot, "sunday", "sunday at 11")
    assert offer[0]["text"].startswith("We're closed on Sunday 29 November.")
    # the same hour on the open days around it
    assert [b["title"] for b in offer[0]["buttons"]] == [
        "Friday 27 November at 11:00",
        "Saturday 28 November at 11:00",
        "Monday 30 November at 11:00",
    ]


def test_an_unknown_service_lists_the_real_ones(bot: Agent) -> None:
    say(bot, "/book_appointment", "nails")
    assert texts(say(bot, "a manicure", "nails"))[0] == (
        "We offer haircut, colouring, blow-dry, beard trim. Which one would you like?"
    )


def test_a_calendar_that_is_down_keeps_the_request(bot: Agent, studio: Path) -> None:
    calendar_down(studio)
    book(bot, "down", "tomorrow at 11am")
    say(bot, "Dora", "down")
    say(bot, "dora@example.com", "down")
    answer = texts(say(bot, "/affirm", "down"))[0]
    assert "couldn't reach our calendar" in answer and "dora@example.com" in answer
    ((_, request),) = the_outbox(studio).pending("booking")
    assert request["customer_name"] == "Dora" and request["service"] == "haircut"
    assert request["start"].startswith("2026-11-26 11:00")


def test_a_time_given_before_the_service_is_checked_once_the_service_is_known(bot: Agent) -> None:
    say(bot, '/book_appointment{"time": "2026-11-29T11:00:00+00:00"}', "early")  # a Sunday
    answer = say(bot, '/inform{"service": "haircut"}', "early")
    assert answer[0]["text"] == (
        "We're closed on Sunday 29 November. Would one of these times on the nearest open "
        "days suit you?"
    )
    assert answer[0]["buttons"] and "When would you like" in answer[-1]["text"]


def test_a_day_without_an_hour_given_first_gets_that_days_free_times(bot: Agent) -> None:
    say(bot, '/book_appointment{"time": "on the 2nd of december"}', "day")
    answer = say(bot, '/inform{"service": "haircut"}', "day")
    assert answer[0]["text"] == "Here are the free times I found. Would one of these suit you?"
    assert all("2 December" in b["title"] for b in answer[0]["buttons"])
    assert "name" in texts(say(bot, answer[0]["buttons"][0]["payload"], "day"))[0]


def use_caldav(studio: Path, url: str, username: str, password: str, name: str) -> None:
    settings = (studio / "business.yml").read_text()
    settings = settings.replace(
        CALENDAR,
        f"  calendar:\n    type: caldav\n    url: {url}\n    username: {username}\n"
        f"    password: ${{CALDAV_PASSWORD}}\n    calendar: {name}\n",
    )
    assert "type: caldav" in settings
    (studio / "business.yml").write_text(settings)


def test_a_booking_lands_in_a_caldav_calendar(
    bot: Agent, studio: Path, radicale: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.integrations.caldav_calendar import CalDAVCalendar

    monkeypatch.setenv("CALDAV_PASSWORD", radicale.password)  # the secret stays out of the file
    name = f"studio-{uuid.uuid4().hex[:8]}"
    use_caldav(studio, radicale.url, radicale.username, "", name)
    book(bot, "cal", "friday at 10am")
    say(bot, "Fay", "cal")
    say(bot, "fay@example.com", "cal")
    assert (
        "You're booked, Fay: a haircut on Friday 27 November at 10:00"
        in texts(say(bot, "/affirm", "cal"))[0]
    )
    calendar = CalDAVCalendar(radicale.url, radicale.username, radicale.password, name)
    (appointment,) = calendar.upcoming("fay@example.com", dt.datetime.fromisoformat(NOW))
    assert appointment.start == dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    # The next customer asking for that time is offered others.
    offer = book(bot, "cal2", "friday at 10am")
    assert offer[0]["text"].startswith("Friday 27 November at 10:00 isn't available")


def test_a_caldav_server_that_is_down_keeps_the_request(
    bot: Agent, studio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.services import free_port

    monkeypatch.setenv("CALDAV_PASSWORD", "x")
    use_caldav(studio, f"http://127.0.0.1:{free_port()}/", "studio", "", "down")
    book(bot, "gone", "friday at 10am")
    say(bot, "Gus", "gone")
    say(bot, "gus@example.com", "gone")
    answer = texts(say(bot, "/affirm", "gone"))[0]
    assert "couldn't reach our calendar" in answer
    ((_, request),) = the_outbox(studio).pending("booking")
    assert request["email"] == "gus@example.com"


def test_a_name_that_reads_like_no_is_still_the_name(bot: Agent) -> None:
    book(bot, "noah", "tomorrow at 11am")
    assert "e-mail" in texts(read_as(bot, "Noah Smith", "deny", "noah"))[0]
    say(bot, "noah@example.com", "noah")
    assert texts(say(bot, "/affirm", "noah"))[0].startswith("You're booked, Noah Smith")
    # A real "no" is not taken for a name.
    book(bot, "nope", "tomorrow at 2pm")
    answer = texts(read_as(bot, "no thanks", "deny", "nope"))
    assert not any("e-mail" in t for t in answer)
    # A surname that reads like a question the form ignores.
    book(bot, "owen", "tomorrow at 4pm")
    assert "e-mail" in texts(read_as(bot, "Owen Price", "ask_prices", "owen"))[0]
    book(bot, "asks", "tomorrow at 5pm")
    answer = texts(read_as(bot, "Price list?", "ask_prices", "asks"))
    assert not any("e-mail" in t for t in answer)


def test_no_while_the_form_asks_stops_the_booking(bot: Agent, studio: Path) -> None:
    book(bot, "stop", "tomorrow at 11am")
    assert texts(say(bot, "/deny", "stop")) == [
        "No problem, I've stopped there. Is there anything else I can help with?"
    ]
    tracker = asyncio.run(bot.tracker_store.retrieve("stop"))
    assert tracker is not None and tracker.active_loop_name is None
    assert not local_calendar(studio).busy(
        dt.datetime.fromisoformat(NOW), dt.datetime.fromisoformat(NOW) + dt.timedelta(days=9)
    )


def test_a_question_asked_three_times_without_an_answer_offers_a_person(bot: Agent) -> None:
    say(bot, "/book_appointment", "stuck")
    say(bot, '/inform{"service": "haircut"}', "stuck")
    for _ in range(2):
        assert texts(say(bot, "whenever suits", "stuck"))[0].startswith("Sorry, I didn't catch")
    answer = texts(say(bot, "whenever suits", "stuck"))
    assert answer[-1].startswith("I'm sorry, I'm not getting this right. Would you like me")
    tracker = asyncio.run(bot.tracker_store.retrieve("stuck"))
    assert tracker is not None and tracker.active_loop_name is None
    assert tracker.latest_action_name == "action_listen"
    assert "action_book_appointment" not in [
        e.get("name") for e in (x.to_dict() for x in tracker.events) if e["event"] == "action"
    ]
    say(bot, "/affirm", "stuck")
    tracker = asyncio.run(bot.tracker_store.retrieve("stuck"))
    assert tracker is not None and tracker.is_paused()


def said_with(
    bot: Agent, text: str, intent: str, entities: dict[str, str], sender: str
) -> list[dict[str, Any]]:
    """`text` as an NLU model that tagged `entities` in it understood it."""
    tagged = [{"entity": name, "value": value} for name, value in entities.items()]
    parse = {"intent": {"name": intent, "confidence": 0.8}, "entities": tagged, "text": text}
    return asyncio.run(bot.handle_message(UserMessage(text, None, sender, parse_data=parse)))


def booked_starts(studio: Path, email: str) -> list[dt.datetime]:
    calendar = local_calendar(studio)
    return [a.start for a in calendar.upcoming(email, dt.datetime.fromisoformat(NOW))]


def test_a_date_then_a_time_in_the_next_message_books_that_date(bot: Agent, studio: Path) -> None:
    offer = book(bot, "split", "Actually, December 8th is better")
    assert offer[0]["text"] == "Here are the free times I found. Would one of these suit you?"
    assert all("8 December" in b["title"] for b in offer[0]["buttons"])
    assert texts(say(bot, "Change it to 2 pm", "split")) == ["May I have your name?"]
    say(bot, "Maya Chen", "split")
    confirmation = texts(say(bot, "maya@example.com", "split"))[0]
    assert confirmation.startswith("Shall I book a haircut on Tuesday 8 December at 14:00")
    assert "today" not in confirmation
    say(bot, "/affirm", "split")
    assert booked_starts(studio, "maya@example.com") == [
        dt.datetime(2026, 12, 8, 14, tzinfo=dt.UTC)
    ]


def test_a_correction_at_the_name_question_changes_the_date_and_is_not_a_name(
    bot: Agent, studio: Path
) -> None:
    book(bot, "fix", "tomorrow at 4pm")
    answer = texts(say(bot, "Actually, the 1st of December instead", "fix"))
    assert answer == [
        "Fine, I'll make it on Tuesday 1 December at 16:00.",
        "May I have your name?",
    ]
    say(bot, "Maya Ito", "fix")
    assert "for Maya Ito?" in texts(say(bot, "maya.ito@example.com", "fix"))[0]
    say(bot, "/affirm", "fix")
    calendar = local_calendar(studio)
    (appointment,) = calendar.upcoming("maya.ito@example.com", dt.datetime.fromisoformat(NOW))
    assert appointment.customer_name == "Maya Ito"
    assert appointment.start == dt.datetime(2026, 12, 1, 16, tzinfo=dt.UTC)


def test_an_hour_later_at_the_read_back_moves_the_time_and_is_no_yes(
    bot: Agent, studio: Path
) -> None:
    """ "can we make it an hour later?" at "Shall I book...?" was read as a yes (the NLU's
    affirm) and booked 15:00: it moves the time, and the booking is read back again."""
    book(bot, "shift", "friday at 3pm")
    say(bot, "Orla Byrne", "shift")
    assert "at 15:00" in texts(say(bot, "orla@example.com", "shift"))[0]
    again = texts(said_with(bot, "can we make it an hour later?", "affirm", {}, "shift"))
    assert again[-1].startswith("Shall I book a haircut on Friday 27 November at 16:00")
    assert not booked_starts(studio, "orla@example.com")
    say(bot, "/affirm", "shift")
    assert [t.hour for t in booked_starts(studio, "orla@example.com")] == [16]


def test_a_service_named_out_of_the_blue_with_nothing_tagged_starts_its_booking(
    bot: Agent,
) -> None:
    """ "haarschnitt bitte": the NLU read `inform` and tagged nothing; the catalogue's own
    words name the service, so the booking starts with it and asks the time."""
    asked = texts(said_with(bot, "blowdry pls", "inform", {}, "stray"))
    assert asked == ["When would you like to come in? For example “Friday at 3pm”."]
    assert "Shall I book a blow-dry" in texts(book_rest(bot, "stray"))[0]


def test_a_stray_answer_that_names_nothing_is_greeted(bot: Agent) -> None:
    greeted = texts(said_with(bot, "ok so", "inform", {}, "nothing"))
    assert greeted[0].startswith("Hello! I'm the assistant of")


def book_rest(bot: Agent, sender: str) -> list[dict[str, Any]]:
    """The time, the name and the e-mail of a booking whose service is known: the read-back."""
    say(bot, "tomorrow at 11am", sender)
    say(bot, "Ada Byron", sender)
    return say(bot, "ada@example.com", sender)


def test_a_correction_at_the_email_question_is_not_refused_as_an_address(
    bot: Agent, studio: Path
) -> None:
    book(bot, "late", "friday at 2")
    say(bot, "Dan Fox", "late")
    answer = texts(say(bot, "Please make it 11 in the morning", "late"))
    assert not any("doesn't look like an e-mail" in t for t in answer)
    assert answer[-1] == "What e-mail address should we send the confirmation to?"
    assert "on Friday 27 November at 11:00" in texts(say(bot, "dan@example.com", "late"))[0]


def test_a_name_is_checked_to_look_like_a_name(bot: Agent) -> None:
    book(bot, "names", "tomorrow at 11am")
    assert texts(say(bot, "I'd rather not say, is that ok?", "names"))[0] == (
        "Sorry, I couldn't see a name in that."
    )
    assert "e-mail" in texts(say(bot, "my name is Ana Lima", "names"))[0]
    assert "for Ana Lima?" in texts(say(bot, "ana@example.com", "names"))[0]


def test_a_closed_day_is_said_to_be_closed_and_never_moved_to_another_month(
    bot: Agent, studio: Path
) -> None:
    offer = book(bot, "sunday29", "The 29th at half past 12")  # Sunday 29 November
    assert offer[0]["text"].startswith("We're closed on Sunday 29 November.")
    titles = [b["title"] for b in offer[0]["buttons"]]
    assert all("December" not in t or "1 December" in t for t in titles)
    assert not booked_starts(studio, "anyone@example.com")


def test_a_day_past_the_booking_horizon_is_said_to_be_too_far_not_full(
    bot: Agent, studio: Path
) -> None:
    """`max_days_ahead` is 60: a wedding date in March, asked in November, is not "no free
    time then" (there may be plenty); the customer is told how far ahead the studio books,
    up to its last whole open day (Saturday 23 January 2027), and asked again."""
    offer = texts(book(bot, "march", "the 20th of March at 11am"))
    assert offer == [
        "We take bookings up to 60 days ahead, so until Saturday 23 January 2027: that is "
        "too far off for now. Would an earlier day suit you?",
        "When would you like to come in? For example “Friday at 3pm”.",
    ]
    assert not booked_starts(studio, "anyone@example.com")


def test_a_date_only_answer_keeps_the_service_already_chosen(bot: Agent) -> None:
    say(bot, "/book_appointment", "keep")
    say(bot, '/inform{"service": "beard trim"}', "keep")
    # The model took "better" for a service: the beard trim stays, and that day is offered.
    offer = said_with(bot, "December 8th is better", "inform", {"service": "better"}, "keep")
    assert offer[0]["text"] == "Here are the free times I found. Would one of these suit you?"
    assert not any("Which" in t for t in texts(offer))
    say(bot, "at 10am", "keep")
    say(bot, "Ken Ito", "keep")
    assert (
        "Shall I book a beard trim on Tuesday 8 December at 10:00"
        in texts(say(bot, "ken@example.com", "keep"))[0]
    )


def test_a_no_to_the_confirmation_asks_what_to_change_and_books_only_after_a_yes(
    bot: Agent, studio: Path
) -> None:
    book(bot, "change", "tomorrow at 2pm")
    say(bot, "Cara Quinn", "change")
    say(bot, "cara@example.com", "change")
    (question,) = say(bot, "/deny", "change")
    assert question["text"] == "No problem. What would you like to change?"
    assert [b["title"] for b in question["buttons"]] == [
        "The day or time",
        "The service",
        "My name",
        "My e-mail",
    ]
    asked = texts(say(bot, question["buttons"][0]["payload"], "change"))
    assert asked == ["When would you like to come in? For example “Friday at 3pm”."]
    again = texts(say(bot, "friday at 4pm", "change"))
    assert again[-1].startswith("Shall I book a haircut on Friday 27 November at 16:00")
    assert not booked_starts(studio, "cara@example.com")
    assert texts(say(bot, "/affirm", "change"))[0].startswith("You're booked, Cara Quinn")
    assert booked_starts(studio, "cara@example.com") == [
        dt.datetime(2026, 11, 27, 16, tzinfo=dt.UTC)
    ]


def test_a_correction_at_the_confirmation_asks_again_with_the_change(bot: Agent) -> None:
    book(bot, "again", "monday at 2pm")
    say(bot, "Theo Wright", "again")
    say(bot, "theo@example.com", "again")
    answer = texts(said_with(bot, "yes but at 3pm please", "affirm", {}, "again"))
    assert answer == [
        "Shall I book a haircut on Monday 30 November at 15:00 (45 minutes) for Theo Wright? "
        "The confirmation will go to theo@example.com."
    ]


@pytest.mark.parametrize(
    "when",
    [
        "tomorrow at 9am",
        "friday at half past four",
        "the 1st of December at noon",
        "saturday 10:15",
    ],
)
def test_the_confirmation_and_the_calendar_can_never_disagree(
    bot: Agent, studio: Path, when: str
) -> None:
    """Both come from the one `appointment_time` value: what is read back is what is booked."""
    from actions.business import business
    from actions.scheduling import in_full

    sender = f"same-{abs(hash(when))}"
    email = f"{sender}@example.com"
    book(bot, sender, when)
    say(bot, "Eve Stone", sender)
    confirmation = texts(say(bot, email, sender))[0]
    booked = texts(say(bot, "/affirm", sender))[0]
    (start,) = booked_starts(studio, email)
    said = in_full(start, business(), dt.datetime.fromisoformat(NOW))
    assert said in confirmation and said in booked


@pytest.mark.parametrize(
    ("language", "asked", "yes"),
    [
        ("fr", "Je réserve : coupe demain, jeudi 26 novembre, à 15:00", "Oui, réservez"),
        ("de", "Soll ich Haarschnitt morgen, Donnerstag, 26. November, um 15:00", "Ja, buchen"),
        (
            "es",
            "¿Reservo corte de pelo mañana, jueves 26 de noviembre, a las 15:00",
            "Sí, resérvela",
        ),
    ],
)
def test_the_confirmation_is_in_the_customers_language(
    bot: Agent, language: str, asked: str, yes: str
) -> None:
    sender = f"lang-{language}"

    def from_browser(text: str) -> list[dict[str, Any]]:
        message = UserMessage(text, None, sender, metadata={"language": language})
        replies: list[dict[str, Any]] = asyncio.run(bot.handle_message(message))
        return replies

    for text in ("/book_appointment", '/inform{"service": "haircut"}'):
        from_browser(text)
    from_browser('/inform{"time": "2026-11-26T15:00:00+00:00"}')
    from_browser("Ana Lima")
    (question,) = from_browser("ana@example.com")
    assert question["text"].startswith(asked)
    assert question["buttons"][0]["title"] == yes


def test_an_hour_that_disagrees_with_its_part_of_the_day_is_asked_about(bot: Agent) -> None:
    offer = book(bot, "early", "friday at 5 in the morning")
    assert offer[0]["text"] == (
        "We're not open at that time. Did you mean Friday 27 November at 17:00? "
        "If not, would one of these suit you?"
    )
    assert offer[0]["buttons"][0]["title"] == "Friday 27 November at 17:00"


def test_the_whole_answer_to_the_name_question_is_the_name(bot: Agent, studio: Path) -> None:
    book(bot, "jo", "tomorrow at 11am")
    said_with(bot, "Jo Park", "inform", {"name": "Jo"}, "jo")  # the model tagged a part
    assert "for Jo Park?" in texts(say(bot, "jo@example.com", "jo"))[0]


def test_a_time_in_the_message_that_started_the_booking_is_not_forgotten(bot: Agent) -> None:
    # Without an NLU model nothing is extracted from the first message: the words are read.
    say(bot, "hi", "first")
    read_as(bot, "I'd like to come in tomorrow at 11am", "book_appointment", "first")
    answer = texts(say(bot, '/inform{"service": "haircut"}', "first"))
    assert answer == ["May I have your name?"]
    say(bot, "Ana Lima", "first")
    assert (
        "tomorrow, Thursday 26 November, at 11:00" in texts(say(bot, "ana@example.com", "first"))[0]
    )


def test_a_name_that_sounds_like_a_service_is_still_the_name(bot: Agent) -> None:
    say(bot, "/book_appointment", "anna-s")
    say(bot, '/inform{"service": "blow-dry"}', "anna-s")
    say(bot, "saturday at 11", "anna-s")
    # close to "Haare schneiden", an alias of the haircut: not a change of service
    assert "e-mail" in texts(say(bot, "Anna Schneider", "anna-s"))[0]


def test_a_name_tagged_as_a_service_does_not_change_the_service_by_a_close_spelling(
    bot: Agent,
) -> None:
    """A model tagged "Hart" of "Cosmo Hart" as a service, and "Hart" is a close spelling of
    "Bart" (the beard trim, in German): the blow-dry chosen before stays. Answering another
    question, a service changes only for one named outright."""
    say(bot, "/book_appointment", "cosmo")
    say(bot, '/inform{"service": "blow-dry"}', "cosmo")
    say(bot, "saturday at 1pm", "cosmo")
    said_with(bot, "Cosmo Hart", "inform", {"service": "Hart"}, "cosmo")
    confirm = texts(say(bot, "cosmo.hart@example.org", "cosmo"))[0]
    assert confirm.startswith("Shall I book a blow-dry on Saturday")


def test_a_word_tagged_as_a_name_in_a_message_that_did_not_give_one_is_not_the_name(
    bot: Agent,
) -> None:
    said_with(bot, "I'm looking for a barber", "book_appointment", {"name": "barber"}, "barber")
    say(bot, '/inform{"service": "beard trim"}', "barber")
    assert texts(say(bot, "monday at 11", "barber")) == ["May I have your name?"]


def test_a_service_tagged_as_a_name_is_not_the_name_though_it_has_a_capital(
    bot: Agent,
) -> None:
    """German capitalises nouns: "Haare schneiden", tagged as a name in "Ich brauche einen
    Termin zum Haare schneiden", is the haircut; the name is still asked for."""
    said_with(
        bot,
        "Ich brauche einen Termin zum Haare schneiden",
        "book_appointment",
        {"name": "Haare schneiden", "service": "Haare schneiden"},
        "haare",
    )
    assert texts(say(bot, "am Montag um 10 Uhr", "haare")) == ["Wie ist Ihr Name?"]


def test_a_day_and_time_said_at_the_service_question_is_kept(bot: Agent) -> None:
    say(bot, "/book_appointment", "early-time")
    answer = texts(
        say(bot, "Yes please for 2:30 in the afternoon on the 1st of December", "early-time")
    )
    assert answer[-1] == "Which service would you like to book?"  # asked, the time kept
    assert texts(say(bot, '/inform{"service": "beard trim"}', "early-time")) == [
        "May I have your name?"
    ]
    say(bot, "Ada Byrne", "early-time")
    assert "on Tuesday 1 December at 14:30" in texts(say(bot, "ada@example.com", "early-time"))[0]


def test_a_service_too_long_for_the_rest_of_the_day_is_not_booked(bot: Agent) -> None:
    say(bot, "/book_appointment", "late-colour")
    say(bot, '/inform{"service": "colouring"}', "late-colour")  # 120 minutes; closes at 18:00
    offer = say(bot, "friday at 5pm", "late-colour")
    assert offer[0]["text"].startswith("Friday 27 November at 17:00 isn't available")
    assert "Friday 27 November at 17:00" not in [b["title"] for b in offer[0]["buttons"]]


def test_a_day_of_the_month_that_has_passed_is_said_so_and_next_months_only_offered(
    bot: Agent, studio: Path
) -> None:
    offer = book(bot, "the-20th", "the 20th at 3pm")  # on Wednesday 25 November
    assert offer[0]["text"] == (
        "Friday 20 November has already passed. Would one of these times suit you?"
    )
    # next month's 20th is a Sunday: the nearest free times to it, never a silent booking
    assert [b["title"] for b in offer[0]["buttons"]] == [
        "Friday 18 December at 15:00",
        "Saturday 19 December at 15:00",
        "Monday 21 December at 15:00",
    ]
    assert not booked_starts(studio, "anyone@example.com")


def consent_of(bot: Agent, sender: str) -> object:
    tracker = asyncio.run(bot.tracker_store.retrieve(sender))
    assert tracker is not None
    return tracker.get_slot("marketing_consent")


def booked(bot: Agent, sender: str, time: str = "tomorrow at 3pm") -> list[str]:
    book(bot, sender, time)
    say(bot, "Anna Lind", sender)
    say(bot, f"{sender}@example.com", sender)
    return texts(say(bot, "/affirm", sender))


def test_after_a_booking_the_offers_question_is_asked_once_and_the_answer_kept(
    bot: Agent,
) -> None:
    done = booked(bot, "offers-yes")
    assert done[0].startswith("You're booked") and "offers" in done[1]
    assert texts(say(bot, "/affirm", "offers-yes")) == [
        "Noted, thank you.",
        "Is there anything else I can help with?",
    ]
    assert consent_of(bot, "offers-yes") is True
    again = booked(bot, "offers-yes", "tomorrow at 5pm")  # a second booking: not asked again
    assert again[1] == "Is there anything else I can help with?"
    assert booked(bot, "offers-no", "tomorrow at 11am")[1].startswith(
        "Would you like to hear about our offers"
    )
    assert texts(say(bot, "/deny", "offers-no"))[0] == "Noted, thank you."
    assert consent_of(bot, "offers-no") is False


def test_something_else_than_yes_or_no_is_answered_and_the_offers_stay_unasked(
    bot: Agent,
) -> None:
    booked(bot, "offers-thanks")
    assert texts(say(bot, "/thank", "offers-thanks")) != []
    assert consent_of(bot, "offers-thanks") is None


def test_a_business_that_does_not_ask_about_offers_goes_on_as_before(
    bot: Agent, studio: Path
) -> None:
    settings = studio / "business.yml"
    settings.write_text(
        settings.read_text().replace("ask_about_offers: true", "ask_about_offers: false")
    )
    assert booked(bot, "no-offers")[1] == "Is there anything else I can help with?"
