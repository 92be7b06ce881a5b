"""Reading request bodies so that no body, however it is built, costs more than a bounded
amount of time and memory, and every bad one gets a 400 in Rasa's error format.

JSON is refused past MAX_JSON_DEPTH levels (Python's parser raises RecursionError far deeper,
and what it builds would break copying and validation later). YAML is read by parlez's own
reader, which caps nesting and alias expansion, in a worker thread with a time budget, so a
hostile document never stops the event loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sanic import Request

from parlez.exceptions import ParlezError
from parlez.http.errors import ApiError
from parlez.io.yaml import read_yaml

#: Deeper than any event, tracker or training payload; metadata a channel passes on included.
MAX_JSON_DEPTH = 64

#: Seconds a YAML body may take to read. The reader's caps keep it far below this; the budget
#: is what a request answers after if the machine is starved.
YAML_SECONDS = 20.0


def nesting_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        if level + 1 > MAX_JSON_DEPTH:
            return level + 1
        stack.extend((child, level + 1) for child in item)
    return deepest


def _too_deep() -> ApiError:
    return ApiError(
        400,
        "BadRequest",
        f"the request body nests lists and objects more than {MAX_JSON_DEPTH} levels deep",
    )


def parse_json(raw: bytes | None) -> Any:
    """A JSON body as Python values; empty is None. Bad or too deeply nested JSON is a 400."""
    try:
        body = json.loads(raw or b"null", parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON: {error}") from None
    if nesting_depth(body) > MAX_JSON_DEPTH:
        raise _too_deep()
    if raw and b"\\u" in raw:
        _refuse_lone_surrogates(body)
    return body


def _refuse_lone_surrogates(body: Any) -> None:
    # `"\ud800"` is valid JSON but no UTF-8 text: no store or channel could write it.
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "BadRequest", "the request body holds half of a UTF-16 pair (\\ud800-\\udfff)"
        ) from None


def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity, which are not JSON: no timestamp or confidence is either.
    raise ValueError(f"'{name}' is not a JSON value")


def json_body(request: Request) -> Any:
    return parse_json(request.body)


def json_object(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object")
    return body


async def yaml_body(request: Request) -> Any:
    """A YAML body (Rasa's training and test payloads) as Python values; empty is None."""
    if not request.body:
        return None
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "BadRequest", f"the request body is not UTF-8: {error}") from None
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(read_yaml, text, "request body"), YAML_SECONDS
        )
    except ParlezError as error:
        raise ApiError(
            400, "BadRequest", f"the request body is not valid YAML: {error}", {"code": error.code}
        ) from None
    except TimeoutError:
        raise ApiError(
            400, "BadRequest", f"the YAML body took more than {YAML_SECONDS:g} s to read"
        ) from None
