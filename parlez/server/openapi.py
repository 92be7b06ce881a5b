"""`GET /openapi.json`: an OpenAPI 3.1 description of exactly the routes this server serves.

The HTTP API (Rasa's routes, health, metrics, the REST channel) is described by hand in
`openapi.yml`, with the shapes parlez really sends. The other channels' webhooks and the
console's pages are listed from the router, with their path parameters and a generic
answer: they are forms and platform callbacks rather than an API to program against, and
their own pages in docs/ describe them.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
from pathlib import Path
from typing import Any

import yaml
from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from parlez import __version__

DESCRIPTION = Path(__file__).with_name("openapi.yml")

#: the blueprints whose every route must be described by hand
DESCRIBED_BLUEPRINTS = ("api", "conversations")

_PARAMETER = re.compile(r"<(\w+)(?::([^>]+))?>")
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
_TYPES = {"int": "integer", "float": "number", "number": "number"}


@functools.cache
def described_by_hand() -> dict[str, Any]:
    with DESCRIPTION.open(encoding="utf-8") as file:
        document: dict[str, Any] = yaml.safe_load(file)
    return document


def openapi_path(route_path: str) -> str:
    """Sanic's `conversations/<conversation_id:str>/tracker` as OpenAPI's
    `/conversations/{conversation_id}/tracker`."""
    return "/" + _PARAMETER.sub(r"{\1}", route_path.strip("/"))


def served_operations(app: Sanic[Any, Any]) -> dict[tuple[str, str], Any]:
    """(method, OpenAPI path) -> the route serving it, for every route of `app`."""
    served: dict[tuple[str, str], Any] = {}
    for route in app.router.routes:
        path = openapi_path(route.path)
        for method in route.methods:
            if method.lower() in _METHODS:
                served[(method.lower(), path)] = route
    return served


def blueprint_of(route: Any) -> str:
    """The blueprint a route belongs to ('' for the app's own routes)."""
    parts = route.name.split(".")
    return parts[1] if len(parts) > 2 else ""


def describe(app: Sanic[Any, Any]) -> dict[str, Any]:
    document = copy.deepcopy(described_by_hand())
    document["info"]["version"] = __version__
    served = served_operations(app)
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        kept = {
            key: value
            for key, value in item.items()
            if key not in _METHODS or (key, path) in served
        }
        if any(key in _METHODS for key in kept):
            paths[path] = kept
    for (method, path), route in sorted(served.items(), key=lambda item: item[0][::-1]):
        if method in paths.get(path, {}):
            continue
        paths.setdefault(path, {})[method] = _listed(route, method)
        if "parameters" not in paths[path]:
            parameters = _path_parameters(route)
            if parameters:
                paths[path]["parameters"] = parameters
    document["paths"] = paths
    return document


def _listed(route: Any, method: str) -> dict[str, Any]:
    """An operation read from the router: its handler's first docstring line as summary."""
    doc = inspect.getdoc(route.handler) or ""
    blueprint = blueprint_of(route)
    operation: dict[str, Any] = {
        "tags": ["console" if blueprint == "console" else "channels"],
        "operationId": f"{route.name.split('.', 1)[-1]}.{method}",
        "summary": doc.split("\n\n")[0].replace("\n", " ") or route.name.rsplit(".", 1)[-1],
        "responses": {
            "default": {
                "description": "A page, a redirect, or the platform's answer; errors as JSON "
                "in Rasa's shape or as a page, after what the caller accepts."
            }
        },
    }
    return operation


def _path_parameters(route: Any) -> list[dict[str, Any]]:
    parameters = []
    for name, label in _PARAMETER.findall(route.path):
        schema: dict[str, Any] = {"type": _TYPES.get(label, "string")}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


async def openapi_route(request: Request) -> HTTPResponse:
    # The routes do not change once the server runs: described once.
    document = getattr(request.app.ctx, "openapi", None)
    if document is None:
        document = request.app.ctx.openapi = describe(request.app)
    return response.json(document)
