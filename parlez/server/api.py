"""Rasa's HTTP API: the model, the domain and the server's status.

Conversation routes are in `conversations.py`. Every route answers JSON errors in Rasa's
format; all but `GET /` and `/version` need the token or JWT when one is configured.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sanic import Request, response
from sanic.response import HTTPResponse

from parlez import __version__
from parlez.evaluation.nlu import entity_report, evaluate, intent_errors, intent_report
from parlez.evaluation.stories import evaluate_stories, story_report
from parlez.exceptions import ParlezError
from parlez.http.blueprint import Blueprint
from parlez.http.bodies import json_body, json_object, yaml_body
from parlez.io.yaml import plain, read_yaml
from parlez.project import DataFiles, read_data_file
from parlez.server.auth import requires_auth
from parlez.server.csrf import refuse_cross_site
from parlez.server.emulators import emulator
from parlez.server.errors import ApiError
from parlez.server.state import ServerState
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

#: Rasa clients refuse servers older than this API version.
MINIMUM_COMPATIBLE_VERSION = "3.0.0"

api = Blueprint("api")
api.on_request(refuse_cross_site)


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.ctx.state
    return state


async def hello(request: Request) -> HTTPResponse:
    return response.text(f"Hello from parlez: {__version__}")


async def version(request: Request) -> HTTPResponse:
    return response.json(
        {"version": __version__, "minimum_compatible_version": MINIMUM_COMPATIBLE_VERSION}
    )


@api.get("/status")
@requires_auth
async def status(request: Request) -> HTTPResponse:
    state = state_of(request)
    agent = state.require_agent()
    return response.json(
        {
            "model_file": str(agent.model) if agent.model else None,
            "model_id": agent.model_id,
            "num_active_training_jobs": state.training_jobs,
        }
    )


@api.post("/model/parse")
@requires_auth
async def parse(request: Request) -> HTTPResponse:
    body = json_object(request)
    text = body.get("text")
    if isinstance(text, list) and text and isinstance(text[0], str):
        text = text[0]  # as Rasa's emulators take it from services that send a list
    if not isinstance(text, str):
        raise ApiError(400, "BadRequest", "'text' is missing or not a string")
    try:
        shape = emulator(request.args.get("emulation_mode"))
    except KeyError:
        raise ApiError(
            400,
            "BadRequest",
            "Invalid parameter value for 'emulation_mode'. "
            "Should be one of 'WIT', 'LUIS', 'DIALOGFLOW'",
        ) from None
    agent = state_of(request).require_agent()
    parsed = await agent.parse_message(text)
    if body.get("message_id") is not None:
        parsed = {**parsed, "message_id": body["message_id"]}
    return response.json(shape(parsed) if shape else parsed)


@api.post("/model/predict")
@requires_auth
async def predict_from_events(request: Request) -> HTTPResponse:
    from parlez.events import EventError, events_from_dicts

    body = json_body(request)
    if not isinstance(body, list):
        raise ApiError(400, "BadRequest", "the body must be a list of events")
    agent = state_of(request).require_agent()
    try:
        events = events_from_dicts(body)
    except EventError as error:
        raise ApiError(400, "BadRequest", error.message) from None
    tracker = DialogueStateTracker.from_events("default", events, agent.domain.all_slots.values())
    return response.json(agent.scores(tracker))


@api.put("/model")
@requires_auth
async def load_model(request: Request) -> HTTPResponse:
    body = json_object(request)
    state = state_of(request)
    model_file = body.get("model_file")
    if not isinstance(model_file, str) or not model_file:
        raise ApiError(400, "BadRequest", "'model_file' must name a model archive")
    path = Path(model_file)
    if not path.is_absolute() and not path.exists():
        path = state.models / model_file
    if not path.is_file():
        raise ApiError(400, "BadRequest", f"there is no model file at '{model_file}'")
    loop = asyncio.get_running_loop()
    try:
        agent = await loop.run_in_executor(None, state.load_model, path)
    except ParlezError as error:
        raise ApiError(400, "BadRequest", f"the model cannot be loaded: {error.message}") from None
    except Exception as error:  # a corrupt archive must not take the server down
        logger.exception("loading '%s' failed", path)
        raise ApiError(400, "BadRequest", f"the model cannot be loaded: {error}") from None
    # One assignment: a message being handled keeps the agent it started with.
    state.agent = agent
    logger.info("loaded the model '%s'", path)
    return response.empty(204)


@api.delete("/model")
@requires_auth
async def unload_model(request: Request) -> HTTPResponse:
    state_of(request).agent = None
    return response.empty(204)


@api.get("/domain")
@requires_auth
async def domain(request: Request) -> HTTPResponse:
    agent = state_of(request).require_agent()
    accept = request.headers.get("Accept", "application/json")
    raw = agent.domain.to_dict()
    if "yaml" in accept or "yml" in accept:
        return response.text(
            yaml.safe_dump(raw, sort_keys=False, allow_unicode=True),
            content_type="application/x-yml",
        )
    if "json" in accept or "*/*" in accept:
        return response.json(raw)
    raise ApiError(
        406,
        "NotAcceptable",
        "Invalid Accept header. Domain can be provided as json ('Accept: application/json') "
        "or yml ('Accept: application/x-yml').",
    )


async def _data_from_body(request: Request, folder: Path) -> DataFiles:
    """Training data posted as YAML, or as Rasa's JSON (`{"rasa_nlu_data": ...}`, sent as
    application/json), read exactly like a project file (off the event loop, with the
    reader's caps: a broken or hostile body is a 400)."""
    is_json = "json" in (request.content_type or "")
    path = folder / ("data.json" if is_json else "data.yml")
    path.write_bytes(request.body or b"")
    files = DataFiles()
    try:
        await asyncio.to_thread(read_data_file, path, files)
    except ParlezError as error:
        raise ApiError(400, "BadRequest", error.message) from None
    return files


@api.post("/model/test/stories")
@requires_auth
async def test_stories(request: Request) -> HTTPResponse:
    agent = state_of(request).require_agent()
    with tempfile.TemporaryDirectory(prefix="parlez-test-") as folder:
        files = await _data_from_body(request, Path(folder))
    stories = files.stories + files.rules
    if not stories:
        raise ApiError(400, "BadRequest", "the body holds no stories")
    evaluation = await evaluate_stories(agent, stories)
    return response.json(story_report(evaluation))


@api.post("/model/test/intents")
@requires_auth
async def test_intents(request: Request) -> HTTPResponse:
    agent = state_of(request).require_agent()
    if agent.nlu is None:
        raise ApiError(409, "Conflict", "the loaded model has no NLU part")
    with tempfile.TemporaryDirectory(prefix="parlez-test-") as folder:
        files = await _data_from_body(request, Path(folder))
    if not files.nlu.examples:
        raise ApiError(400, "BadRequest", "the body holds no NLU examples")
    loop = asyncio.get_running_loop()
    evaluation = await loop.run_in_executor(None, evaluate, agent.nlu, files.nlu)
    if not evaluation.intents:
        # examples without an intent or text are not evaluated: nothing is left to report
        raise ApiError(400, "BadRequest", "the body holds no NLU example with an intent")
    report = intent_report(evaluation.intents)
    result: dict[str, Any] = {
        "intent_evaluation": {
            "report": report,
            "accuracy": report.get("accuracy"),
            "f1_score": report.get("weighted avg", {}).get("f1-score"),
            "precision": report.get("weighted avg", {}).get("precision"),
            "predictions": [
                {
                    "text": r.text,
                    "intent": r.target,
                    "predicted": r.prediction,
                    "confidence": r.confidence,
                }
                for r in evaluation.intents
            ],
            "errors": intent_errors(evaluation.intents),
        },
        "entity_evaluation": {
            extractor: entity_report(evaluation, extractor) for extractor in evaluation.extractors
        },
        "response_selection_evaluation": {},
    }
    return response.json(result)


CONFIG_KEYS = ("recipe", "language", "assistant_id", "pipeline", "policies")
DATA_KEYS = ("nlu", "stories", "rules")


def write_training_project(payload: dict[str, Any], folder: Path) -> None:
    """Split Rasa's one-document payload into a project's config, domain and data files.

    The older form, with `config` and `domain` given as YAML strings, is read as well.
    """

    def section(value: Any, name: str) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = plain(read_yaml(value, name))
            except ParlezError as error:
                raise ApiError(
                    400,
                    "BadRequest",
                    f"'{name}' in the training payload is not valid YAML: {error}",
                ) from None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ApiError(400, "BadRequest", f"'{name}' in the training payload must be a mapping")
        return value

    config = {k: payload[k] for k in CONFIG_KEYS if k in payload}
    config.update(section(payload.get("config"), "config"))
    data = {k: payload[k] for k in DATA_KEYS if k in payload and not isinstance(payload[k], str)}
    for key in DATA_KEYS:
        if isinstance(payload.get(key), str):  # the older form: a YAML document per key
            data.update(section(payload[key], key))
    domain = {
        k: v
        for k, v in payload.items()
        if k not in (*CONFIG_KEYS, *DATA_KEYS, "config", "domain", "version")
    }
    domain.update(section(payload.get("domain"), "domain"))
    version = {"version": str(payload.get("version", "3.1"))}
    for name, content in (
        ("config.yml", config),
        ("domain.yml", {**version, **domain}),
        ("data/training.yml", {**version, **data}),
    ):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), "utf-8")


@api.post("/model/train")
@requires_auth
async def train_model(request: Request) -> HTTPResponse:
    """Rasa's training payload: one YAML document with config, domain and data keys."""
    from parlez.training import train_in_subprocess

    state = state_of(request)
    payload = await yaml_body(request)
    if not isinstance(payload, dict):
        raise ApiError(
            400,
            "BadRequest",
            "the body must be one YAML document with the config (pipeline, policies), "
            "the domain (intents, responses...) and the data (nlu, stories, rules)",
        )
    save = request.args.get("save_to_default_model_directory", "true").lower() != "false"
    force = request.args.get("force_training", "false").lower() == "true"
    with tempfile.TemporaryDirectory(prefix="parlez-train-") as work:
        folder = Path(work)
        await asyncio.to_thread(write_training_project, plain(payload), folder)
        out = state.models if save else folder / "models"
        out.mkdir(parents=True, exist_ok=True)
        state.training_jobs += 1
        try:
            archive, problem = await asyncio.wrap_future(
                train_in_subprocess(folder, out, force or not save)
            )
        finally:
            state.training_jobs -= 1
        if archive is None:
            raise ApiError(400, "BadRequest", problem or "training failed")
        headers = {"filename": archive.name}
        return response.raw(archive.read_bytes(), content_type="application/gzip", headers=headers)
