"""The channels credentials.yml names: the built-ins by Rasa's names, the user's own by dotted
path, both resolved through `parlez.registry.channels`."""

from __future__ import annotations

import logging
from typing import Any

from parlez.channels.channel import ChannelConfigError, InputChannel
from parlez.registry import channels

logger = logging.getLogger(__name__)

#: Rasa 3's other channel names: a project that lists one still starts (Rasa's own demos list
#: `rasa:`, Rasa X's), and is told once that parlez does not serve it
RASA_CHANNELS_NOT_SERVED = frozenset(
    {
        "rasa",
        "botframework",
        "mattermost",
        "rocketchat",
        "webexteams",
        "hangouts",
        "cmdline",
        "audiocodes",
        "vier_cvg",
        "genesys",
    }
)


def channel_class(name: str) -> type[InputChannel]:
    return channels.get(name)


def channels_from_credentials(credentials: dict[str, dict[str, Any]]) -> list[InputChannel]:
    from parlez.channels.socketio import SocketIOInput

    served = {}
    for name, settings in credentials.items():
        if name in RASA_CHANNELS_NOT_SERVED and name not in channels:
            logger.warning(
                "P411 credentials.yml lists Rasa's '%s' channel, which parlez does not serve: "
                "it is left out",
                name,
            )
        else:
            served[name] = settings
    credentials = served
    built = [
        channel_class(name).from_credentials(settings) for name, settings in credentials.items()
    ]
    paths: dict[str, str] = {}
    for name, channel in zip(credentials, built, strict=True):
        if isinstance(channel, SocketIOInput):
            if channel.socketio_path in paths:
                raise ChannelConfigError(
                    f"the channels '{paths[channel.socketio_path]}' and '{name}' in "
                    f"credentials.yml both serve socket.io at '{channel.socketio_path}'",
                    hint="keep one of them, or give one another 'socketio_path'",
                )
            paths[channel.socketio_path] = name
    return built
