"""Rasa's conversation routes: read and change a tracker, run actions, trigger intents.

Every change happens under the conversation's lock, exactly as a user message does, so an
API call never interleaves with a message of the same user.
"""

from __future__ import annotations

from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import (
    CollectingOutputChannel,
    OutputChannel,
    UserMessage,
    sender_id_problem,
)
from parlez.core.actions.action import UnknownActionError
from parlez.core.export import conversation_story
from parlez.event_schema import parse_data_problem
from parlez.events import Event, EventError, events_from_dicts
from parlez.http.blueprint import Blueprint
from parlez.http.bodies import json_body, json_object
from parlez.server.api import state_of
from parlez.server.auth import requires_auth
from parlez.server.csrf import refuse_cross_site
from parlez.server.errors import ApiError
from parlez.tracker import DialogueStateTracker

conversations = Blueprint("conversations", url_prefix="/conversations")
conversations.on_request(refuse_cross_site)


@conversations.on_request
async def check_conversation_id(request: Request) -> None:
    """Refuse an id no store can hold (too long, NUL...) before anything reads or writes it."""
    conversation_id = (request.match_info or {}).get("conversation_id")
    if isinstance(conversation_id, str):
        problem = sender_id_problem(conversation_id)
        if problem is not None:
            raise ApiError(400, "BadRequest", problem)


#: Rasa's EventVerbosity names, as `include_events` takes them
VERBOSITY = {"ALL": "all", "APPLIED": "applied", "AFTER_RESTART": "after_restart", "NONE": "none"}


def verbosity(request: Request, default: str = "AFTER_RESTART") -> str:
    given = request.args.get("include_events", default).upper()
    if given not in VERBOSITY:
        raise ApiError(
            400,
            "BadRequest",
            f"'include_events' must be one of {', '.join(VERBOSITY)}, not '{given}'",
        )
    return VERBOSITY[given]


def until(tracker: DialogueStateTracker, request: Request) -> DialogueStateTracker:
    """The conversation as it was at `?until=<timestamp>` (all of it without)."""
    raw = request.args.get("until")
    if raw is None:
        return tracker
    try:
        moment = float(raw)
    except ValueError:
        raise ApiError(400, "BadRequest", "'until' must be a UNIX timestamp") from None
    return DialogueStateTracker.from_events(
        tracker.sender_id,
        [e for e in tracker.events if e.timestamp <= moment],
        tracker.slot_definitions(),
    )


def parse_events(body: Any) -> list[Event]:
    items = body if isinstance(body, list) else [body]
    try:
        return events_from_dicts(items)
    except EventError as error:
        raise ApiError(
            400, "BadRequest", f"Couldn't parse the events: {error.message}", {"hint": error.hint}
        ) from None


async def output_for(request: Request, conversation_id: str) -> OutputChannel:
    """`?output_channel=<name>` sends bot messages there; `latest` is the channel the user
    last wrote from. The conversation is read once any turn in flight is saved: a customer's
    first message being answered right now is where they are."""
    wanted = request.args.get("output_channel")
    state = state_of(request)
    if not wanted:
        return CollectingOutputChannel()
    tracker = await state.require_agent().retrieve_after_turn(conversation_id)
    if wanted == "latest":
        wanted = tracker.latest_input_channel() if tracker is not None else None
    metadata = tracker.latest_input_metadata() if tracker is not None else {}
    return state.output_channel(wanted, metadata)


@conversations.get("/<conversation_id:str>/tracker")
@requires_auth
async def get_tracker(request: Request, conversation_id: str) -> HTTPResponse:
    agent = state_of(request).require_agent()
    tracker = await agent.tracker(conversation_id)
    return response.json(until(tracker, request).current_state(verbosity(request)))


@conversations.post("/<conversation_id:str>/tracker/events")
@requires_auth
async def append_events(request: Request, conversation_id: str) -> HTTPResponse:
    state = state_of(request)
    agent = state.require_agent()
    events = parse_events(json_body(request))
    side_effects = request.args.get("execute_side_effects", "false").lower() == "true"
    output = await output_for(request, conversation_id) if side_effects else None
    tracker = await state.guarded(agent.append_events(conversation_id, events, output))
    return response.json(tracker.current_state(verbosity(request)))


@conversations.put("/<conversation_id:str>/tracker/events")
@conversations.put("/<conversation_id:str>/tracker", name="replace_tracker")
@requires_auth
async def replace_events(request: Request, conversation_id: str) -> HTTPResponse:
    """Rasa's `PUT .../tracker/events`: the conversation becomes these events."""
    state = state_of(request)
    agent = state.require_agent()
    body = json_body(request)
    if not isinstance(body, list):
        raise ApiError(400, "BadRequest", "the body must be the list of the conversation's events")
    events = parse_events(body)
    tracker = DialogueStateTracker.from_events(
        conversation_id, events, agent.domain.all_slots.values()
    )
    await state.guarded(agent.replace(tracker))
    return response.json(tracker.current_state(verbosity(request)))


@conversations.get("/<conversation_id:str>/story")
@requires_auth
async def get_story(request: Request, conversation_id: str) -> HTTPResponse:
    agent = state_of(request).require_agent()
    tracker = await agent.tracker(conversation_id)
    all_sessions = request.args.get("all_sessions", "false").lower() == "true"
    story = conversation_story(until(tracker, request), all_sessions)
    return response.text(story, content_type="text/yml")


@conversations.post("/<conversation_id:str>/messages")
@requires_auth
async def add_message(request: Request, conversation_id: str) -> HTTPResponse:
    state = state_of(request)
    agent = state.require_agent()
    body = json_object(request)
    if body.get("sender") != "user":
        raise ApiError(
            400,
            "BadRequest",
            "Currently, only user messages can be passed to this endpoint. "
            "Messages of sender 'bot' should be added with POST .../tracker/events",
        )
    text = body.get("text")
    if not isinstance(text, str):
        raise ApiError(400, "BadRequest", "'text' is missing or not a string")
    parse_data = _checked_parse_data(body.get("parse_data"))
    message = UserMessage(
        text,
        CollectingOutputChannel(),
        conversation_id,
        body.get("metadata") if isinstance(body.get("metadata"), dict) else None,
        parse_data=parse_data,
    )
    tracker = await state.guarded(agent.log_only(message))
    return response.json(tracker.current_state(verbosity(request)))


@conversations.post("/<conversation_id:str>/execute")
@requires_auth
async def execute(request: Request, conversation_id: str) -> HTTPResponse:
    state = state_of(request)
    agent = state.require_agent()
    body = json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "BadRequest", "'name' must name the action to run")
    if name not in agent.domain.action_names_or_texts:
        # Rasa answers 500; the request is what is wrong, and 400 is in its API description.
        raise ApiError(400, "BadRequest", f"The action '{name}' is not in the domain.")
    confidence = body.get("confidence")
    if confidence is not None and not isinstance(confidence, int | float):
        raise ApiError(400, "BadRequest", "'confidence' must be a number")
    output = await output_for(request, conversation_id)
    try:
        tracker = await state.guarded(
            agent.execute_action(conversation_id, name, output, body.get("policy"), confidence)
        )
    except UnknownActionError as error:
        raise ApiError(400, "BadRequest", str(error)) from None
    return response.json(
        {
            "tracker": tracker.current_state(verbosity(request)),
            "messages": output.messages if isinstance(output, CollectingOutputChannel) else [],
        }
    )


@conversations.post("/<conversation_id:str>/trigger_intent")
@requires_auth
async def trigger_intent(request: Request, conversation_id: str) -> HTTPResponse:
    state = state_of(request)
    agent = state.require_agent()
    body = json_object(request)
    intent = body.get("name")
    if not isinstance(intent, str) or not intent:
        raise ApiError(400, "BadRequest", "'name' must name the intent to trigger")
    if intent not in agent.domain.intents:
        raise ApiError(404, "NotFound", f"The intent {intent} does not exist in the domain.")
    output = await output_for(request, conversation_id)
    try:
        triggered = agent.trigger_intent(conversation_id, intent, body.get("entities"), output)
    except ValueError as error:
        raise ApiError(400, "BadRequest", f"'entities': {error}") from None
    tracker = await state.guarded(triggered)
    return response.json(
        {
            "tracker": tracker.current_state(verbosity(request)),
            "messages": output.messages if isinstance(output, CollectingOutputChannel) else [],
        }
    )


@conversations.post("/<conversation_id:str>/predict")
@requires_auth
async def predict(request: Request, conversation_id: str) -> HTTPResponse:
    agent = state_of(request).require_agent()
    # As in Rasa, a conversation not started yet is predicted for as a new one (not saved).
    return response.json(agent.scores(await agent.tracker(conversation_id)))


def _checked_parse_data(parse_data: Any) -> dict[str, Any] | None:
    """A client's own NLU result for `POST .../messages`, in Rasa's shape: a malformed one
    is the client's mistake (400), not the server's (Rasa answers 500)."""
    if parse_data is None:
        return None
    problem = parse_data_problem(parse_data)
    if problem is not None:
        raise ApiError(400, "BadRequest", problem)
    return dict(parse_data)
