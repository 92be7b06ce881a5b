"""What every webhook channel has: its blueprint under `/webhooks/<name>/` with Rasa's health
route, and its settings from credentials.yml, refused with the missing keys named."""

from __future__ import annotations

from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.channels.channel import ChannelConfigError, InputChannel
from parlez.http.blueprint import Blueprint


def webhook_blueprint(channel: InputChannel) -> Blueprint:
    """The channel's routes live here: `/webhooks/<prefix>/`, whose `GET /` says it is up."""
    bp = Blueprint(f"{channel.name()}_webhook", url_prefix=f"/webhooks/{channel.url_prefix()}")

    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    bp.add_route(health, "/", methods=["GET"])
    return bp


def required(
    settings: dict[str, Any] | None, keys: tuple[str, ...], channel: str, hint: str
) -> dict[str, Any]:
    """`settings` (a channel's section of credentials.yml), if it has every one of `keys`."""
    found = settings or {}
    missing = [key for key in keys if not found.get(key)]
    if missing:
        raise ChannelConfigError(
            f"the {channel} channel needs {', '.join(repr(key) for key in missing)}",
            hint=f"credentials.yml: {channel}: {hint}",
        )
    return found
