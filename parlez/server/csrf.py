"""Requests that change state through Rasa's HTTP API must not come from another website.

A page on any site can make a visitor's browser POST to `http://127.0.0.1:5005` with a
"simple" body (`text/plain`, a form) and no preflight; with no token configured the API
would take it. Two checks close that door, on every route of the API that changes state:

- the body must say it is JSON (or YAML, on the routes that take Rasa's YAML): browsers
  cannot send those types across sites without asking first, and then CORS says no;
- a request that names a browser origin must come from the server's own origin or one
  allowed with `--cors`.

The channels' webhooks are not covered: they are public by design and have their own checks.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic import Request
from sanic.response import HTTPResponse

from parlez.server.errors import ApiError, error_response

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Routes that read Rasa's YAML payloads (JSON is YAML too, and Rasa takes it there).
YAML_ROUTES = frozenset({"/model/train", "/model/test/stories", "/model/test/intents"})

YAML_TYPES = frozenset(
    {
        "application/x-yaml",
        "application/yaml",
        "application/x-yml",
        "text/yaml",
        "text/x-yaml",
        "text/yml",
        "text/x-yml",
    }
)


def is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def origin_allowed(origin: str, request: Request, cors: list[str] | None) -> bool:
    """Whether a browser on `origin` may change state here: the server's own origin (its
    Host, whatever scheme a proxy in front speaks) or one `--cors` names."""
    allowed = cors or []
    if "*" in allowed or origin in allowed:
        return True
    return origin != "null" and urlsplit(origin).netloc.lower() == (request.host or "").lower()


def content_type_problem(request: Request) -> str | None:
    if not request.body:
        return None  # nothing a route could read; it answers for itself
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if is_json_type(media_type):
        return None
    if request.path.rstrip("/") in YAML_ROUTES:
        if media_type in YAML_TYPES:
            return None
        wanted = "'application/x-yaml' (or 'application/json')"
    else:
        wanted = "'application/json'"
    given = f"'{media_type}'" if media_type else "no Content-Type"
    return f"this route takes a body of type {wanted}, not {given}"


async def refuse_cross_site(request: Request) -> HTTPResponse | None:
    """Request middleware of the API's blueprints: a 415 or 403 before the route runs."""
    if request.method not in STATE_CHANGING:
        return None
    origin = request.headers.get("origin")
    if origin is not None and not origin_allowed(origin, request, request.app.ctx.cors):
        return error_response(
            ApiError(
                403,
                "NotAuthorized",
                f"requests from the origin '{origin}' may not change state here",
                help_url="allow the origin with `parlez run --cors <origin>`",
            )
        )
    problem = content_type_problem(request)
    if problem is not None:
        return error_response(
            ApiError(
                415,
                "UnsupportedMediaType",
                problem,
                help_url="send the header `Content-Type: application/json`",
            )
        )
    return None
