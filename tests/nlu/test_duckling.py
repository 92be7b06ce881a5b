from __future__ import annotations

import datetime
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from parlez.diagnostics import collect
from parlez.nlu.extractors.duckling import DucklingEntityExtractor, DucklingUnavailableError
from parlez.nlu.extractors.spoken_times import original_span, rewrite
from parlez.nlu.message import Message

BERLIN_NOON = int(
    datetime.datetime(
        2026, 11, 25, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    ).timestamp()
    * 1000
)


def extract(text: str, **config: object) -> list[dict[str, object]]:
    extractor = DucklingEntityExtractor({"timezone": "Europe/Berlin", **config})
    message = Message(text, metadata={"time": BERLIN_NOON})
    with collect():
        extractor.process([message])
    return message.entities


def test_entities_have_duckling_s_shape_as_rasa_returns_it() -> None:
    [entity] = extract("tomorrow at 3pm", dimensions=["time"])
    assert list(entity) == [
        "start",
        "end",
        "text",
        "value",
        "confidence",
        "additional_info",
        "entity",
        "extractor",
    ]
    assert entity["value"] == "2026-11-26T15:00:00.000+01:00"
    assert entity["entity"] == "time" and entity["extractor"] == "DucklingEntityExtractor"
    assert entity["additional_info"]["grain"] == "hour"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "dimension", "value"),
    [
        ("a table for 4 people", "number", 4),
        ("the third one", "ordinal", 3),
        ("it costs 20 euros", "amount-of-money", 20),
        ("for 2 hours", "duration", 2),
        ("mail me at anna@example.com", "email", "anna@example.com"),
        ("call +44 20 7946 0958", "phone-number", "(+44) 2079460958"),
        ("see https://example.org/prices", "url", "https://example.org/prices"),
    ],
)
def test_every_common_dimension_is_extracted_offline(
    text: str, dimension: str, value: object
) -> None:
    found = [e for e in extract(text, dimensions=[dimension]) if e["entity"] == dimension]
    assert found and found[0]["value"] == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("four in the evening", "2026-11-25T16:00:00.000+01:00"),
        ("afternoon 2", "2026-11-25T14:00:00.000+01:00"),
        ("tomorrow at half past four in the afternoon", "2026-11-26T16:30:00.000+01:00"),
        ("ten in the morning", "2026-11-26T10:00:00.000+01:00"),
        ("evening at 7:30", "2026-11-25T19:30:00.000+01:00"),
    ],
)
def test_spoken_clock_times_are_read_as_people_mean_them(text: str, expected: str) -> None:
    [entity] = extract(text, dimensions=["time"])
    assert entity["value"] == expected
    assert entity["text"] == text and (entity["start"], entity["end"]) == (0, len(text))


def test_spoken_time_offsets_map_back_to_the_user_s_words() -> None:
    text = "book me tomorrow at four in the evening please"
    rewritten, rewrites = rewrite(text)
    assert rewritten == "book me tomorrow at 4:00pm please"
    start, end = original_span(rewritten.index("tomorrow"), rewritten.index(" please"), rewrites)
    assert text[start:end] == "tomorrow at four in the evening"


def test_british_half_four_is_half_past_four() -> None:
    assert rewrite("can I come at half four?")[0] == "can I come at 4:30?"
    assert rewrite("half 11 tomorrow")[0] == "11:30 tomorrow"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Wednesday 25 November: the coming Tuesday is 1 December, "Tuesday week" the 8th
        ("tuesday week", "2026-12-08T00:00:00.000+01:00"),
        ("Tues week at 10am", "2026-12-08T10:00:00.000+01:00"),
        ("a week on Friday", "2026-12-04T00:00:00.000+01:00"),
        ("a week from friday", "2026-12-04T00:00:00.000+01:00"),
        ("a week today", "2026-12-02T00:00:00.000+01:00"),
        ("a week tomorrow", "2026-12-03T00:00:00.000+01:00"),
        ("tuesday fortnight", "2026-12-15T00:00:00.000+01:00"),
        ("a fortnight on Friday", "2026-12-11T00:00:00.000+01:00"),
        ("a fortnight today", "2026-12-09T00:00:00.000+01:00"),
    ],
)
def test_a_week_on_a_day_is_the_week_after_not_the_coming_day(text: str, expected: str) -> None:
    [entity] = extract(text, dimensions=["time"])
    assert entity["value"] == expected
    assert entity["text"] == text


def test_week_words_that_are_not_a_week_on_a_day_are_left_alone() -> None:
    for text in (
        "every tuesday weekly",
        "monday weekend",
        "this week",
        "a week ago",
        "pendant mon week-end",  # French: my weekend
    ):
        assert rewrite(text)[0] == text


def test_numbers_that_are_not_times_are_left_alone() -> None:
    assert rewrite("I have 2 kids in the afternoon?")[0] == "I have 2 kids in the afternoon?"
    for text in ("half past four", "half an hour", "half 2.5", "half 50%"):
        assert rewrite(text)[0] == text


class _FakeDuckling(http.server.BaseHTTPRequestHandler):
    requests: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        import urllib.parse

        length = int(self.headers["Content-Length"])
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        _FakeDuckling.requests.append(form)
        body = json.dumps(
            [
                {
                    "body": "five",
                    "start": 0,
                    "end": 4,
                    "dim": "number",
                    "latent": False,
                    "value": {"value": 5, "type": "value"},
                }
            ]
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def duckling_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _FakeDuckling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_duckling_server_at_url_is_used_with_rasa_s_request(duckling_server: str) -> None:
    [entity] = extract("five", url=duckling_server, dimensions=["number"], spoken_times=False)
    assert entity["value"] == 5
    form = _FakeDuckling.requests[-1]
    assert (
        form["text"] == ["five"]
        and form["locale"] == ["en_US"]
        and json.loads(form["dims"][0]) == ["number"]
    )
    assert form["tz"] == ["Europe/Berlin"] and form["reftime"] == [str(BERLIN_NOON)]


def test_without_a_server_the_embedded_duckling_answers_with_one_warning() -> None:
    extractor = DucklingEntityExtractor(
        {"url": "http://127.0.0.1:9", "dimensions": ["number"], "timezone": "UTC"}
    )
    with collect() as warnings:
        extractor.process([Message("two"), Message("three")])
    assert [w.code for w in warnings] == ["P187"]


def test_an_unknown_dimension_is_an_error() -> None:
    with pytest.raises(DucklingUnavailableError, match="'colour'"):
        DucklingEntityExtractor({"dimensions": ["colour"]})
