"""The Blueprint parlez's own routes are declared on."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint as SanicBlueprint

#: the error format of parlez's routes: every error they raise is answered with Rasa's JSON
#: error body (parlez.server.errors.handle_exception)
ERROR_FORMAT = "json"


class Blueprint(SanicBlueprint):
    """Sanic's Blueprint, whose routes say their error format. A route that does not makes
    Sanic read and parse its handler's source to guess one: 0.26 s of every server's start,
    for the 120 handlers of the API, the channels and the console."""

    __slots__ = ()

    def route(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("error_format") in (None, "", "auto"):
            kwargs["error_format"] = ERROR_FORMAT
        return super().route(*args, **kwargs)
