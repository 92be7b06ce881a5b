"""How the server answers an error: Rasa's error body (parlez.http.errors) for ours, and a
logged 500 for anything unexpected."""

from __future__ import annotations

import logging

from sanic import Request, response
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse

from parlez.exceptions import ParlezError
from parlez.http.errors import ApiError as ApiError  # re-exported for the routes
from parlez.http.errors import error_body as error_body

logger = logging.getLogger(__name__)


def error_response(error: ApiError) -> HTTPResponse:
    return response.json(
        error_body(error.status, error.reason, error.message, error.details, error.help_url),
        status=error.status,
    )


_REASONS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "NotAuthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    408: "RequestTimeout",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    503: "ServiceUnavailable",
}


async def handle_exception(request: Request, exception: Exception) -> HTTPResponse:
    """Every failure becomes a JSON error in Rasa's shape; the server itself goes on."""
    if isinstance(exception, ApiError):
        return error_response(exception)
    if isinstance(exception, SanicException):
        status = exception.status_code
        answer = error_response(ApiError(status, _REASONS.get(status, "Error"), str(exception)))
        # Sanic's own headers for its errors: a 405's `Allow` (RFC 9110 requires it)
        answer.headers.update(exception.headers or {})
        return answer
    if isinstance(exception, ParlezError):
        from parlez.stores.errors import StoreUnavailableError

        status = 503 if isinstance(exception, StoreUnavailableError) else 400
        logger.error("%s %s: %s", request.method, request.path, exception)
        return error_response(ApiError(status, _REASONS[status], exception.message))
    logger.exception("%s %s failed", request.method, request.path)
    return error_response(
        ApiError(500, "InternalError", f"An unexpected error occurred: {type(exception).__name__}")
    )
