"""Errors as Rasa's HTTP API returns them, so clients written for Rasa read them unchanged:
`{"version", "status": "failure", "message", "reason", "details", "help", "code"}`."""

from __future__ import annotations

from typing import Any

from parlez import __version__


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        help_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details or {}
        self.help_url = help_url


def error_body(
    status: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
    help_url: str | None = None,
) -> dict[str, Any]:
    return {
        "version": __version__,
        "status": "failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "help": help_url,
        "code": status,
    }
