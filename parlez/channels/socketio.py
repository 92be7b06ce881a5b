"""Rasa's socket.io channel: the protocol Rasa's web chat widgets speak.

A client asks for a session (`session_request`, answered by `session_confirm` with its id),
sends `user_uttered` events `{"message", "session_id", "metadata"}` and receives
`bot_uttered` events shaped as Rasa shapes them (text, `quick_replies`, `attachment`).
With `session_persistence` the conversation id is the session id the client keeps, so a
reload or a second tab continues the same conversation; without it, each socket is one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from parlez.channels.channel import (
    Conversations,
    InputChannel,
    OnNewMessage,
    OutputChannel,
    UserMessage,
    sender_id_problem,
)
from parlez.http.blueprint import Blueprint
from parlez.http.bodies import MAX_JSON_DEPTH, nesting_depth
from parlez.io.lazy_package import lazy_package
from parlez.registry import register_channel

# The server alone, not the clients and message queues the packages' __init__ import
# (aiohttp, requests, redis...): a third of a second of every start.
lazy_package("engineio")
lazy_package("socketio")
import socketio  # noqa: E402

logger = logging.getLogger(__name__)


class SocketBlueprint(Blueprint):
    """A blueprint that also mounts the socket.io server on the app it is registered on."""

    __slots__ = ("sio", "socketio_path")  # Sanic refuses attributes it was not told of

    def __init__(self, sio: socketio.AsyncServer, socketio_path: str, name: str) -> None:
        # No url_prefix: a channel built on it (the web chat) adds routes of its own paths.
        super().__init__(name)
        self.sio = sio
        self.socketio_path = socketio_path

    def register(self, app: Sanic[Any, Any], options: dict[str, Any]) -> None:
        self.sio.attach(app, self.socketio_path)
        super().register(app, options)  # type: ignore[no-untyped-call]


class SocketIOOutput(OutputChannel):
    def __init__(
        self, sio: socketio.AsyncServer, bot_message_evt: str, namespace: str | None = None
    ) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace

    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def _send(self, room: str, message: dict[str, Any]) -> None:
        await self.sio.emit(self.bot_message_evt, message, room=room, namespace=self.namespace)

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        # Rasa sends each paragraph as its own message.
        for part in text.strip().split("\n\n"):
            await self._send(recipient_id, {"text": part})

    async def send_image_url(self, recipient_id: str, image: str) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"src": image}}})

    async def send_attachment(self, recipient_id: str, attachment: Any) -> None:
        await self._send(recipient_id, {"attachment": attachment})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]]
    ) -> None:
        parts = text.strip().split("\n\n") if text else [""]
        for part in parts[:-1]:
            await self._send(recipient_id, {"text": part})
        quick_replies = [
            {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
            for b in buttons
        ]
        await self._send(recipient_id, {"text": parts[-1], "quick_replies": quick_replies})

    async def send_elements(self, recipient_id: str, elements: list[dict[str, Any]]) -> None:
        await self._send(
            recipient_id,
            {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "generic", "elements": elements},
                }
            },
        )

    async def send_custom_json(self, recipient_id: str, custom: dict[str, Any]) -> None:
        await self._send(recipient_id, dict(custom))


@register_channel("socketio")
class SocketIOInput(InputChannel):
    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str = "HS256",
        metadata_key: str = "metadata",
        cors_allowed_origins: list[str] | str | Callable[..., bool] = "*",
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.session_persistence = session_persistence
        self.socketio_path = socketio_path
        self.jwt_key = jwt_key
        self.jwt_method = jwt_method
        self.metadata_key = metadata_key
        self.cors_allowed_origins = cors_allowed_origins
        self.sio: socketio.AsyncServer | None = None

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        c = credentials or {}
        return cls(
            str(c.get("user_message_evt") or "user_uttered"),
            str(c.get("bot_message_evt") or "bot_uttered"),
            c.get("namespace"),
            bool(c.get("session_persistence", False)),
            str(c.get("socketio_path") or "/socket.io"),
            c.get("jwt_key"),
            str(c.get("jwt_method") or "HS256"),
            str(c.get("metadata_key") or "metadata"),
            c.get("cors_allowed_origins", "*"),
        )

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return SocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def _authorised(self, auth: Any) -> bool:
        if not self.jwt_key:
            return True
        import jwt

        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            return False
        try:
            jwt.decode(str(token), self.jwt_key, algorithms=[self.jwt_method])
        except jwt.PyJWTError:
            return False
        return True

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        shared = conversations.shared_redis() if conversations is not None else None
        sio = socketio.AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            # Several server processes: an emit to a room reaches its sockets on every one
            # (a person's reply sent through one process, the customer connected to another).
            client_manager=(
                socketio.AsyncRedisManager(
                    shared.url, channel=f"{shared.key_prefix}parlez-{self.name()}"
                )
                if shared is not None
                else None
            ),
        )
        self.sio = sio
        bp = SocketBlueprint(sio, self.socketio_path, f"{self.name()}_webhook")

        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # Rasa's health route of the channel, `GET /webhooks/socketio/`
        bp.add_route(health, f"/webhooks/{self.url_prefix()}/", methods=["GET"], name="health")
        namespace = self.namespace

        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            if not self._authorised(auth):
                logger.warning("refused a socket.io connection without a valid token")
                return False
            return True

        async def session_request(sid: str, data: Any = None) -> None:
            # A client may ask without a payload: it gets a new session id.
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def user_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                logger.warning("ignored a socket.io message that is not an object: %r", data)
                return
            output = SocketIOOutput(sio, self.bot_message_evt, namespace)
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not sender_id:
                    # As Rasa does: without its session the message belongs to no
                    # conversation the client can find again.
                    logger.warning(
                        "ignored a socket.io message without 'session_id' (session "
                        "persistence is on): the client must send session_request first"
                    )
                    return
                else:
                    problem = sender_id_problem(str(sender_id))
                    if problem is not None:
                        logger.warning("ignored a socket.io message: 'session_id': %s", problem)
                        return
                    # A client that reconnects without a new session_request stays in its room.
                    await sio.enter_room(sid, str(sender_id), namespace=namespace)
            else:
                sender_id = sid
            text = data.get("message", "")
            metadata = data.get(self.metadata_key)
            if isinstance(metadata, dict) and nesting_depth(metadata) > MAX_JSON_DEPTH:
                logger.warning("a socket.io message's metadata nests too deep; it is dropped")
                metadata = None
            try:
                await on_new_message(
                    UserMessage(
                        str(text) if text is not None else None,
                        output,
                        str(sender_id),
                        metadata if isinstance(metadata, dict) else None,
                        input_channel=self.name(),
                    )
                )
            except Exception:
                # The socket stays open; the user is told, the failure is logged.
                logger.exception("handling a socket.io message of '%s' failed", sender_id)
                await sio.emit(
                    self.bot_message_evt,
                    {"text": "Sorry, something went wrong on our side. Please try again."},
                    room=str(sender_id) if self.session_persistence else sid,
                    namespace=namespace,
                )

        sio.on("connect", connect, namespace=namespace)
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, user_message, namespace=namespace)
        return bp
