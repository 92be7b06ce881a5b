"""Custom actions: run by `rasa_sdk` in this process, or by an action server over HTTP.

Both speak Rasa's action protocol: `{next_action, sender_id, tracker, domain, version}` in,
`{events, responses}` out. When an action fails (server down, timeout, exception, malformed
events) the conversation goes on: the failure is logged, the user gets the fallback answer,
and no event already in the conversation is lost.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from parlez import metrics, tracing
from parlez.core.actions.action import MESSAGE_DATA_KEYS, Action, ActionContext, bot_event
from parlez.domain import Domain
from parlez.endpoints import EndpointConfig
from parlez.events import ActionExecutionRejected, Event, EventError
from parlez.exceptions import ParlezError
from parlez.tracker import DialogueStateTracker

logger = logging.getLogger(__name__)

#: the response the user gets when a custom action fails; a domain may define its own
ACTION_FAILED_RESPONSE = "utter_action_failed"
ACTION_FAILED_TEXT = "Sorry, something went wrong on my side. Please try again in a moment."
#: Rasa's protocol version the tracker and domain are written in
PROTOCOL_VERSION = "3.6.0"


class ActionFailedError(ParlezError):
    code = "P320"


class ActionRejectedError(Exception):
    """The action refused to run (`ActionExecutionRejection` in rasa_sdk)."""


class CustomActionExecutor(ABC):
    @abstractmethod
    async def run(self, name: str, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
        """Run the action `name`: Rasa's `{events, responses}` answer."""

    def names(self) -> list[str] | None:
        """The actions this executor knows, when it can tell."""
        return None

    def warm_up(self) -> None:
        """Load now what the actions load on first use (an action server warms itself)."""
        return None


#: the function of an actions package that `warm_up_package` runs
WARM_UP = "warm_up"


def warm_up_package(package: str) -> None:
    """Run the actions package's own `warm_up()`, when it has one, before the first customer
    waits for what its actions load on first use (an index, a model, a connection pool). It
    runs once at start in `parlez run` (in-process actions) and in `parlez run actions`. A
    failure is logged, and the actions load what they need when they first run."""
    warm = getattr(importlib.import_module(package), WARM_UP, None)
    if not callable(warm):
        return
    try:
        warm()
    except Exception:
        logger.exception(
            "%s.%s() failed: the actions will load what they need when they first run",
            package,
            WARM_UP,
        )


def action_call(name: str, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    return {
        "next_action": name,
        "sender_id": tracker.sender_id,
        "tracker": tracker.current_state(),
        "domain": domain.to_dict(),
        "version": PROTOCOL_VERSION,
    }


#: Threads for in-process actions whose `run` is a plain def: they mostly wait on a back end,
#: so many run at once, without taking the threads that parsing and files use.
ACTION_THREADS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="parlez-action")


class InProcessExecutor(CustomActionExecutor):
    """The `rasa_sdk` actions of a Python package, run in this process."""

    def __init__(self, package: str) -> None:
        from rasa_sdk.executor import ActionExecutor

        try:
            importlib.import_module(package)
        except ImportError as error:
            raise ActionFailedError(
                f"the actions package '{package}' cannot be imported: {error}",
                hint="check `action_endpoint: actions_module:` in endpoints.yml, or --actions",
            ) from error
        self.package = package
        self.executor = ActionExecutor()
        self.executor.register_package(package)

    def names(self) -> list[str] | None:
        return sorted(self.executor.actions)

    def warm_up(self) -> None:
        warm_up_package(self.package)

    async def run(self, name: str, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
        from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

        call = action_call(name, tracker, domain)
        run = self.executor.actions.get(name)
        try:
            if run is not None and not inspect.iscoroutinefunction(run):
                # A plain `def run` may block (a back-end call, time.sleep): on the event
                # loop it would stop every other conversation until it returns.
                result = await asyncio.get_running_loop().run_in_executor(
                    ACTION_THREADS, asyncio.run, self.executor.run(call)
                )
            else:
                result = await self.executor.run(call)
        except ActionExecutionRejection as error:
            raise ActionRejectedError(str(error)) from error
        except ActionNotFoundException as error:
            raise ActionFailedError(
                f"no action '{name}' in the package '{self.package}'",
                hint="register it as a rasa_sdk Action whose name() returns this name",
            ) from error
        if result is None:
            return {"events": [], "responses": []}
        dumped: dict[str, Any] = result.model_dump()
        return dumped


class RemoteExecutor(CustomActionExecutor):
    """An action server (`action_endpoint: url:`), e.g. `rasa run actions` or `parlez run actions`."""

    def __init__(self, endpoint: EndpointConfig, timeout: float | None = None) -> None:
        self.endpoint = endpoint
        self.timeout = float(timeout or endpoint.kwargs.get("timeout", 30))

    async def run(self, name: str, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, auth=self.endpoint.auth()) as client:
                reply = await client.post(
                    str(self.endpoint.url),
                    json=action_call(name, tracker, domain),
                    # The action server's spans join the message's trace.
                    headers=tracing.passed_on(dict(self.endpoint.headers)),
                    params=self.endpoint.query_params(),
                )
        except httpx.TimeoutException as error:
            raise ActionFailedError(
                f"the action server at {self.endpoint.url} did not answer '{name}' within "
                f"{self.timeout:g} s"
            ) from error
        except httpx.HTTPError as error:
            raise ActionFailedError(
                f"the action server at {self.endpoint.url} cannot be reached for '{name}': {error}",
                hint="start it with `parlez run actions` (or `rasa run actions`)",
            ) from error
        if reply.status_code == 400:
            body = _json(reply)
            if body.get("action_name") or body.get("error"):
                raise ActionRejectedError(str(body.get("error", "")))
        if reply.status_code >= 400:
            raise ActionFailedError(
                f"the action server answered '{name}' with HTTP {reply.status_code}: "
                f"{reply.text[:300]}"
            )
        body = _json(reply)
        if not isinstance(body, dict):
            raise ActionFailedError(f"the action server's answer to '{name}' is not a JSON object")
        return body


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        return {}


class CustomAction(Action):
    def __init__(self, action_name: str) -> None:
        self.action_name = action_name

    def name(self) -> str:
        return self.action_name

    async def run(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event]:
        events = await self.call(context, tracker, domain)
        if events is None:
            metrics.ACTION_ERRORS.labels(action=self.action_name).inc()
            message = await context.nlg.generate(
                ACTION_FAILED_RESPONSE, tracker, context.channel_name
            )
            return [
                bot_event(message or {"text": ACTION_FAILED_TEXT}, action_failed=self.action_name)
            ]
        return events

    async def call(
        self, context: ActionContext, tracker: DialogueStateTracker, domain: Domain
    ) -> list[Event] | None:
        """The action's events, or None when it failed (the failure is logged)."""
        if context.custom is None:
            logger.error(
                "the custom action '%s' cannot run: no action server or actions package is "
                "configured (action_endpoint in endpoints.yml, or --actions)",
                self.action_name,
            )
            return None
        try:
            result = await context.custom.run(self.action_name, tracker, domain)
        except ActionRejectedError:
            return [ActionExecutionRejected(self.action_name)]
        except asyncio.CancelledError:
            raise
        except ActionFailedError as error:
            logger.error("%s", error.render() if hasattr(error, "render") else error)
            return None
        except Exception:  # an action's own bug must not end the conversation
            logger.exception("the custom action '%s' raised an exception", self.action_name)
            return None
        events: list[Event] = []
        for response in result.get("responses") or []:
            events += await self._response(response, context, tracker)
        for raw in result.get("events") or []:
            try:
                events.append(Event.from_dict(raw))
            except EventError as error:
                logger.error(
                    "the custom action '%s' returned a malformed event, which is ignored: %s",
                    self.action_name,
                    error,
                )
        return events

    async def _response(
        self, response: dict[str, Any], context: ActionContext, tracker: DialogueStateTracker
    ) -> list[Event]:
        if not isinstance(response, dict):
            return []
        name = response.get("response") or response.get("template")
        # rasa_sdk sends every key, empty ones included; extra keys are the response's kwargs.
        message = {
            k: v
            for k, v in response.items()
            if v not in (None, "", [], {}) and k not in ("response", "template")
        }
        if name:
            generated = await context.nlg.generate(name, tracker, context.channel_name, **message)
            if generated is None:
                logger.error(
                    "the action '%s' asked for the unknown response '%s'", self.action_name, name
                )
                return []
            given = {k: v for k, v in message.items() if k in MESSAGE_DATA_KEYS}
            message = {**generated, **given, "utter_action": name}
        return [bot_event(message)]
