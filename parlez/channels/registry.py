"""Channels named in credentials.yml: the built-ins by name, the user's own by dotted path."""

from __future__ import annotations

import importlib
from typing import Any

from parlez.channels.channel import InputChannel
from parlez.exceptions import ParlezError, did_you_mean


class ChannelConfigError(ParlezError):
    code = "P410"


def builtin_channels() -> dict[str, type[InputChannel]]:
    from parlez.channels.callback import CallbackInput
    from parlez.channels.rest import RestInput
    from parlez.channels.socketio import SocketIOInput

    return {c.name(): c for c in (RestInput, SocketIOInput, CallbackInput)}


def channel_class(name: str) -> type[InputChannel]:
    builtins = builtin_channels()
    if name in builtins:
        return builtins[name]
    if "." not in name:
        raise ChannelConfigError(
            f"unknown channel '{name}' in credentials.yml",
            hint=did_you_mean(name, builtins)
            or f"built-in channels: {', '.join(sorted(builtins))}; "
            "your own channels are named by dotted path (connectors.webchat.WebChatInput)",
        )
    module_name, _, class_name = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ChannelConfigError(
            f"cannot import the channel '{name}': {error}",
            hint="run parlez in the project folder so that its packages can be imported",
        ) from error
    if not (isinstance(cls, type) and issubclass(cls, InputChannel)):
        raise ChannelConfigError(f"'{name}' is not an InputChannel")
    return cls


def channels_from_credentials(credentials: dict[str, dict[str, Any]]) -> list[InputChannel]:
    from parlez.channels.socketio import SocketIOInput

    channels = [
        channel_class(name).from_credentials(settings) for name, settings in credentials.items()
    ]
    paths: dict[str, str] = {}
    for name, channel in zip(credentials, channels, strict=True):
        if isinstance(channel, SocketIOInput):
            if channel.socketio_path in paths:
                raise ChannelConfigError(
                    f"the channels '{paths[channel.socketio_path]}' and '{name}' in "
                    f"credentials.yml both serve socket.io at '{channel.socketio_path}'",
                    hint="keep one of them, or give one another 'socketio_path'",
                )
            paths[channel.socketio_path] = name
    return channels
