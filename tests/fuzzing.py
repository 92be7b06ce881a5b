"""What a hostile client or a broken editor produces: Hypothesis strategies for Rasa's event
dicts, channel payloads and HTTP request bodies, and mutations of real project files.

The suite runs them with small budgets; `bench/fuzz.py` runs the same ones with large budgets
and counts what it finds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from parlez.events import Event

# ---- JSON -----------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "greet", "action_listen", "\x00", "\ud800", "é", "<script>", "null"]),
)

JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

EVENT_TYPES = sorted(Event._registry)

#: The keys each event type reads, to mutate values where they matter most.
EVENT_KEYS = [
    "name",
    "text",
    "value",
    "parse_data",
    "data",
    "policy",
    "confidence",
    "action_text",
    "hide_rule_turn",
    "is_interrupted",
    "validate",
    "entities",
    "use_text_for_featurization",
    "intent",
    "date_time",
    "kill_on_user_msg",
    "rating",
    "comment",
    "input_channel",
    "message_id",
    "metadata",
    "timestamp",
]

PARSE_DATA = st.fixed_dictionaries(
    {},
    optional={
        "intent": st.one_of(
            JSON,
            st.fixed_dictionaries({}, optional={"name": SCALARS, "confidence": SCALARS}),
        ),
        "entities": st.one_of(
            JSON,
            st.lists(
                st.fixed_dictionaries(
                    {"entity": SCALARS},
                    optional={"start": SCALARS, "end": SCALARS, "value": JSON, "role": SCALARS},
                ),
                max_size=3,
            ),
        ),
        "intent_ranking": JSON,
        "text": SCALARS,
    },
)


#: One well-formed event of each kind Rasa writes, as a starting point for mutations.
VALID_EVENTS: list[dict[str, Any]] = [
    {
        "event": "user",
        "timestamp": 1.5,
        "text": "I am in Paris",
        "parse_data": {
            "intent": {"name": "inform", "confidence": 0.9},
            "entities": [{"entity": "city", "start": 8, "end": 13, "value": "Paris"}],
            "intent_ranking": [{"name": "inform", "confidence": 0.9}],
        },
        "input_channel": "rest",
        "message_id": "m1",
        "metadata": {"page": "/"},
    },
    {"event": "bot", "text": "Hi", "data": {"buttons": [{"title": "A", "payload": "/a"}]}},
    {"event": "action", "name": "action_listen", "policy": "RulePolicy", "confidence": 1},
    {"event": "action", "action_text": "Hello", "hide_rule_turn": True},
    {"event": "slot", "name": "city", "value": "Paris"},
    {"event": "followup", "name": "utter_greet"},
    {"event": "active_loop", "name": "booking_form"},
    {"event": "active_loop", "name": None},
    {"event": "loop_interrupted", "is_interrupted": True},
    {"event": "form_validation", "validate": False},
    {"event": "action_execution_rejected", "name": "booking_form"},
    {"event": "entities", "entities": [{"entity": "city", "value": "Nice"}]},
    {"event": "user_featurization", "use_text_for_featurization": False},
    {"event": "reminder", "intent": "remind", "date_time": "2026-12-01T10:00:00", "name": "r"},
    {"event": "cancel_reminder", "name": "r"},
    {"event": "agent", "text": "hello", "data": None},
    {"event": "feedback", "rating": 4, "comment": "nice"},
    {"event": "delivery", "message_id": "SM1", "status": "failed", "error": "30007"},
    {"event": "knowledge_miss", "question": "do you do finance", "confidence": 0.4},
    {"event": "experiment", "experiment": "greeting", "arm": "b"},
    {"event": "export", "path": "stories.yml"},
    *({"event": name} for name in ("reset_slots", "restart", "rewind", "undo", "pause", "resume")),
    {"event": "session_started", "metadata": {"a": 1}},
]


@st.composite
def event_dicts(draw: Callable[..., Any]) -> Any:
    """A Rasa event dict: a well-formed one with a few keys changed or removed, a known type
    with random keys, or something that is not an event at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(JSON)
    if kind <= 5:
        event = json.loads(json.dumps(draw(st.sampled_from(VALID_EVENTS))))
        for key in draw(st.lists(st.sampled_from(EVENT_KEYS), max_size=2, unique=True)):
            if draw(st.booleans()):
                event.pop(key, None)
            else:
                event[key] = draw(PARSE_DATA if key == "parse_data" else JSON)
        return event
    event = {"event": draw(st.one_of(st.sampled_from(EVENT_TYPES), SCALARS))}
    for key in draw(st.lists(st.sampled_from(EVENT_KEYS), max_size=5, unique=True)):
        event[key] = draw(PARSE_DATA if key == "parse_data" else JSON)
    return event


REST_PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "sender": st.one_of(SCALARS, st.text(min_size=250, max_size=260)),
        "message": st.one_of(SCALARS, st.just("hello"), st.just('/inform{"city": "Paris"}')),
        "text": SCALARS,
        "metadata": JSON,
    },
)

SOCKET_PAYLOADS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "message": st.one_of(SCALARS, st.just("hello")),
            "session_id": SCALARS,
            "id": SCALARS,
            "metadata": JSON,
            "attachment": JSON,
            "rating": SCALARS,
            "email": SCALARS,
            "resend": SCALARS,
        },
    ),
)

# ---- HTTP requests --------------------------------------------------------------------------

CONVERSATION = "fuzzed"

#: (method, path, what its body is): every route of the API whose body or query a client
#: chooses. Training (`/model/train`) and unloading (`DELETE /model`) are left out: a valid
#: payload starts a real training run, and unloading ends every later case.
ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/webhooks/rest/webhook", "rest"),
    ("POST", "/model/parse", "parse"),
    ("POST", "/model/predict", "events"),
    ("PUT", "/model", "json"),
    ("POST", f"/conversations/{CONVERSATION}/tracker/events", "events"),
    ("PUT", f"/conversations/{CONVERSATION}-replaced/tracker", "events"),
    ("POST", f"/conversations/{CONVERSATION}/messages", "message"),
    ("POST", f"/conversations/{CONVERSATION}/execute", "named"),
    ("POST", f"/conversations/{CONVERSATION}/trigger_intent", "named"),
    ("POST", f"/conversations/{CONVERSATION}/predict", "json"),
    ("GET", f"/conversations/{CONVERSATION}/tracker", "query"),
    ("GET", f"/conversations/{CONVERSATION}/story", "query"),
    ("POST", "/model/test/stories", "yaml"),
    ("POST", "/model/test/intents", "yaml"),
]

NAMES = st.one_of(SCALARS, st.sampled_from(["utter_greet", "action_listen", "greet", "inform"]))

BODIES: dict[str, st.SearchStrategy[Any]] = {
    "rest": REST_PAYLOADS,
    "parse": st.fixed_dictionaries({}, optional={"text": SCALARS, "message_id": JSON}),
    "events": st.one_of(event_dicts(), st.lists(event_dicts(), max_size=4)),
    "json": JSON,
    "message": st.fixed_dictionaries(
        {},
        optional={
            "text": SCALARS,
            "sender": st.sampled_from(["user", "bot", ""]),
            "parse_data": st.one_of(PARSE_DATA, JSON),
            "metadata": JSON,
        },
    ),
    "named": st.fixed_dictionaries(
        {},
        optional={"name": NAMES, "entities": JSON, "policy": SCALARS, "confidence": SCALARS},
    ),
}

QUERIES = st.dictionaries(
    st.sampled_from(["include_events", "until", "all_sessions", "output_channel", "token"]),
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["ALL", "APPLIED", "nan", "inf", "-1e309", "1e400", "latest"]),
    ),
    max_size=3,
)

YAML_BODIES = st.one_of(
    st.sampled_from(
        [
            'version: "3.1"\nstories:\n- story: s\n  steps:\n  - intent: greet\n',
            'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n',
            "stories: [1, 2",
            "a: &a [*a]",
            "nlu:\n- intent: [x]\n",
            "stories:\n- steps: 3\n",
        ]
    ),
    JSON.map(lambda value: json.dumps(value)),
)


@st.composite
def requests(draw: Callable[..., Any]) -> tuple[str, str, bytes, dict[str, str]]:
    """(method, path with query, body, headers) for one of ROUTES."""
    method, path, kind = draw(st.sampled_from(ROUTES))
    query = draw(QUERIES)
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query)
    headers = {"Content-Type": "application/json"}
    if kind == "yaml":
        headers["Content-Type"] = "application/x-yaml"
        body = draw(YAML_BODIES).encode("utf-8", "surrogatepass")
    elif kind == "query":
        body = b""
    else:
        value = draw(BODIES[kind])
        body = json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 19)) == 0:  # raw bytes where JSON was expected
        body = draw(st.binary(max_size=64))
    return method, path, body, headers


# ---- project files --------------------------------------------------------------------------


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def _swap_types(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    candidates = [i for i, line in enumerate(lines) if ": " in line]
    if not candidates:
        return text
    index = rng.choice(candidates)
    key, _, _ = lines[index].partition(": ")
    lines[index] = f"{key}: {rng.choice(['[1, 2]', '{a: b}', '3', 'null', 'true', '~', '!!str'])}"
    return "\n".join(lines) + "\n"


def _nest(text: str, rng: random.Random) -> str:
    depth = rng.choice([50, 120, 998])
    return (
        text
        + "deep:\n"
        + "".join("  " * i + f"k{i}:\n" for i in range(1, depth))
        + "  " * depth
        + "v\n"
    )


def mutations(text: str, rng: random.Random) -> list[tuple[str, bytes]]:
    """Broken versions of a project file's text, each named for how it was broken."""
    raw = text.encode("utf-8")
    flipped = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(flipped))
        flipped[position] = rng.randrange(256)
    return [
        ("byte flips", bytes(flipped)),
        ("truncated", raw[: rng.randrange(1, max(2, len(raw)))]),
        ("wrong types", _swap_types(text, rng).encode()),
        ("deep nesting", _nest(text, rng).encode()),
        ("alias bomb", alias_bomb(rng.choice([5, 7, 9])).encode()),
        ("alias bomb inside", (text + "bomb:\n" + alias_bomb(7).replace("\n", "\n  ")).encode()),
        ("invalid UTF-8", raw[: len(raw) // 2] + b"\xff\xfe\xc3" + raw[len(raw) // 2 :]),
        ("control characters", raw.replace(b"\n", b"\n\x01", 1)),
        ("tabs", raw.replace(b"  ", b"\t", 3)),
        ("empty", b""),
        ("a list at the top", b"- " + raw.replace(b"\n", b"\n  ")),
    ]
