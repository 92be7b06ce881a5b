"""The web chat's channel: Rasa's socket.io protocol, plus what a website needs.

Rasa's socket.io widgets work against it unchanged (`session_request`, `user_uttered`,
`bot_uttered`). parlez's own widget also uses:
- `history` after `session_confirm`: the conversation so far, so a reload shows it;
- an acknowledgement of each `user_uttered` once its answer is saved, with the message's
  id, so a message resent after a lost connection (marked `resend`) is answered once;
- `feedback` (a 1-5 rating and a comment), kept as a `feedback` event;
- uploads (`POST /webchat/upload`) that a message then links to;
- speech (`POST /webchat/speech`, `/webchat/speech/say`): the microphone (speech.py);
- the pages `/webchat/` (configuration and preview) and `/webchat/widget.js`.
Pages on origins that are not allowed are refused, each conversation has a message budget,
and messages have a size limit.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from connectors.webchat.attachments import (
    AttachmentRefused,
    AttachmentStore,
    AttachmentStoreError,
)
from connectors.webchat.limits import RateLimiter, SharedRateLimiter
from connectors.webchat.messages import bot_message, history
from connectors.webchat.seen import SeenMessages, SharedSeenMessages
from connectors.webchat.settings import WebChatSettings
from connectors.webchat.speech import WebChatSpeech
from connectors.webchat.tracking import (
    ADDRESS_BURST,
    ADDRESS_PER_MINUTE,
    BURST,
    PER_MINUTE,
    WebChatTracking,
)
from parlez.channels.channel import Conversations, OnNewMessage, OutputChannel, UserMessage
from parlez.channels.socketio import SocketBlueprint, SocketIOInput
from parlez.events import FeedbackGiven, SlotSet, UserUttered
from parlez.project import project_folder

if TYPE_CHECKING:
    from parlez.stores.lock_store import SharedRedis

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
#: message metadata a page may send; anything else is dropped, and the whole is size-capped
METADATA_KEYS = (
    "visitor",
    "page",
    "referrer",
    "language",
    "timezone",
    "display",
    "hidden",
    "speech",
)
MAX_METADATA_BYTES = 4096


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (a server with `jwt_key`)."""
    scheme, _, token = str(request.headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def origin_of(request_scheme: str, host: str) -> str:
    return f"{request_scheme}://{host}"


class WebChatOutput(OutputChannel):
    """Sends each bot message as one `bot_uttered` to every tab of the conversation."""

    def __init__(self, channel: WebChatInput, in_turn: bool) -> None:
        self.channel = channel
        #: False when a person answers through the HTTP API, outside the visitor's turn
        self.in_turn = in_turn

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        out = bot_message(message)
        if not out:
            return
        if not self.in_turn:
            out["human"] = await self.channel.is_paused(recipient_id)
        await self.channel.emit(self.channel.settings.bot_message_evt, out, recipient_id)

    async def send_text_message(self, recipient_id: str, text: str) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_typing(self, recipient_id: str, typing: bool) -> None:
        """`typing` to every tab of the conversation: the widget shows a person writing."""
        await self.channel.emit("typing", {"typing": typing, "human": True}, recipient_id)


class WebChatInput(SocketIOInput):
    def __init__(self, settings: WebChatSettings | None = None) -> None:
        self.settings = settings or WebChatSettings()
        s = self.settings
        super().__init__(
            s.user_message_evt,
            s.bot_message_evt,
            None,
            True,
            s.socketio_path,
            s.jwt_key,
            s.jwt_method,
            s.metadata_key,
        )
        self.limiter = RateLimiter(s.messages_per_minute, s.burst)
        self.upload_limiter = RateLimiter(s.attachments.per_minute, s.attachments.burst)
        self.attachments = AttachmentStore(s.attachments)
        self.conversations: Conversations | None = None
        self.seen = SeenMessages()
        self.speech = WebChatSpeech(self, s.speech)
        self.tracking = WebChatTracking(self)
        self._widget: tuple[bytes, bytes, str] | None = None

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        return cls(WebChatSettings.parse(credentials))

    def get_output_channel(self) -> OutputChannel | None:
        return WebChatOutput(self, in_turn=False) if self.sio is not None else None

    def reconfigure(self, credentials: dict[str, Any] | None) -> bool:
        """The widget's look and the pages allowed to show it apply at once (the console's
        settings page changes them); the rest (limits, attachments, socket.io's names) when
        the server starts again."""
        new = WebChatSettings.parse(credentials)
        live = {"widget": new.widget, "allowed_origins": new.allowed_origins}
        self.settings = self.settings.model_copy(update=live)
        self._widget = None  # widget.js carries the look: made again on the next request
        return new == self.settings

    def actions_used(self) -> list[str]:
        return [self.settings.transcript_action] if self.settings.transcript_action else []

    # -- origins -------------------------------------------------------------------------

    def origin_allowed(self, origin: str | None, own: str | None) -> bool:
        """A page may talk to the chat if it is the server's own, or on the allowed list.
        Requests without an Origin are not from a browser page and are let through."""
        if not origin:
            return True
        allowed = self.settings.allowed_origins
        return (
            "*" in allowed
            or origin.rstrip("/") in {o.rstrip("/") for o in allowed}
            or (own is not None and origin == own)
        )

    def _socket_origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        host = environ.get("HTTP_HOST")
        own = origin_of(environ.get("wsgi.url_scheme", "http"), host) if host else None
        if not self.origin_allowed(origin, own):
            logger.warning("refused a web chat connection from the origin %s", origin)
            return False
        return True

    def _request_origin_allowed(self, request: Request) -> bool:
        return self.origin_allowed(
            request.headers.get("origin"), origin_of(request.scheme, request.host)
        )

    # -- conversations -------------------------------------------------------------------

    def _conversations(self) -> Conversations:
        if self.conversations is None:
            raise RuntimeError("the web chat is not mounted on a running server")
        return self.conversations

    async def is_paused(self, session_id: str) -> bool:
        tracker = await self._conversations().retrieve(session_id)
        return bool(tracker and tracker.is_paused())

    async def emit(self, event: str, data: Any, room: str, skip_sid: str | None = None) -> None:
        assert self.sio is not None
        await self.sio.emit(event, data, room=room, skip_sid=skip_sid)

    async def _already_received(self, session_id: str, message_id: str, resend: bool) -> bool:
        if not await self.seen.first_time(session_id, message_id):
            return True
        if not resend:
            return False
        # A resend may have reached another process (or this one before a restart) the
        # first time: only then is the conversation read, not for every message.
        tracker = await self._conversations().retrieve(session_id)
        if tracker is None:
            return False
        return any(
            isinstance(e, UserUttered) and e.message_id == message_id for e in tracker.events[-200:]
        )

    def _metadata(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            return {}
        kept = {k: raw[k] for k in METADATA_KEYS if k in raw}
        if len(json.dumps(kept, default=str)) > MAX_METADATA_BYTES:
            logger.warning("dropped web chat metadata over %d bytes", MAX_METADATA_BYTES)
            return {}
        return kept

    async def _attachment(self, raw: Any) -> dict[str, Any] | None:
        """The upload a message links to, if it is one of ours."""
        if not isinstance(raw, dict):
            return None
        name = str(raw.get("url") or "").rsplit("/webchat/files/", 1)[-1]
        try:
            info = await asyncio.to_thread(self.attachments.info, name)
        except AttachmentStoreError as error:
            logger.error("%s", error)
            return None
        return info.describe() if info else None

    async def handle_user_message(
        self, sid: str, data: Any, on_new_message: OnNewMessage
    ) -> dict[str, Any]:
        """The answer to one `user_uttered`: what the acknowledgement says."""
        if not isinstance(data, dict):
            return {"ok": False, "error": "bad_message", "message": "a message is an object"}
        session = await self.sio.get_session(sid) if self.sio else {}
        session_id = str(data.get("session_id") or session.get("session_id") or "")
        if not SESSION_ID.match(session_id):
            return {"ok": False, "error": "no_session", "message": "send session_request first"}
        await self.sio.enter_room(sid, session_id)  # type: ignore[union-attr]
        text = data.get("message")
        text = "" if text is None else str(text)
        if len(text) > self.settings.max_message_chars:
            return {
                "ok": False,
                "error": "too_long",
                "limit": self.settings.max_message_chars,
                "message": f"a message has at most {self.settings.max_message_chars} characters",
            }
        message_id = str(data.get("message_id") or "") or uuid.uuid4().hex
        if not SESSION_ID.match(message_id):
            return {"ok": False, "error": "bad_message", "message": "message_id is not valid"}
        if await self._already_received(session_id, message_id, bool(data.get("resend"))):
            return {"ok": True, "id": message_id, "duplicate": True}
        wait = await self.limiter.spend(session_id)
        if wait:
            await self.seen.forget(session_id, message_id)  # it may come again later
            return {
                "ok": False,
                "error": "rate_limited",
                "retry_after": round(wait, 1),
                "message": "too many messages; wait a moment",
            }
        metadata = self._metadata(data.get(self.settings.metadata_key))
        parse_data = None
        attachment = await self._attachment(data.get("attachment"))
        if attachment is not None:
            metadata["attachment"] = attachment
            text = text or attachment["name"]
            if self.settings.attachment_intent:
                parse_data = {
                    "intent": {"name": self.settings.attachment_intent, "confidence": 1.0},
                    "entities": [],
                    "text": text,
                }
        elif not text.strip():
            return {"ok": False, "error": "empty", "message": "the message is empty"}
        if not metadata.get("hidden"):
            # Other tabs of the same visitor show what this one sent.
            echo = {"text": metadata.get("display") or text, "id": message_id}
            if attachment:
                echo["attachment"] = attachment
            await self.emit("user_echo", echo, session_id, skip_sid=sid)
        try:
            await on_new_message(
                UserMessage(
                    text,
                    WebChatOutput(self, in_turn=True),
                    session_id,
                    metadata,
                    input_channel=self.name(),
                    message_id=message_id,
                    parse_data=parse_data,
                )
            )
        except Exception:
            # The visitor is told and may send again; the failure is logged.
            await self.seen.forget(session_id, message_id)
            logger.exception("handling a web chat message of '%s' failed", session_id)
            return {
                "ok": False,
                "error": "failed",
                "message": "Sorry, something went wrong on our side. Please try again.",
            }
        return {"ok": True, "id": message_id, "handoff": await self.is_paused(session_id)}

    async def handle_session_request(self, sid: str, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        asked = str(data.get("session_id") or "")
        session_id = asked if SESSION_ID.match(asked) else uuid.uuid4().hex
        assert self.sio is not None
        await self.sio.save_session(sid, {"session_id": session_id})
        await self.sio.enter_room(sid, session_id)
        await self.sio.emit("session_confirm", session_id, room=sid)
        # A reload while an answer is on its way: the history waits for it to be saved.
        tracker = await self._conversations().retrieve_after_turn(session_id)
        messages, paused = history(
            tracker.events if tracker else [], self.settings.history_messages
        )
        await self.sio.emit(
            "history", {"session_id": session_id, "messages": messages, "handoff": paused}, room=sid
        )

    async def handle_feedback(self, sid: str, data: Any) -> dict[str, Any]:
        data = data if isinstance(data, dict) else {}
        session = await self.sio.get_session(sid) if self.sio else {}
        session_id = str(data.get("session_id") or session.get("session_id") or "")
        if not SESSION_ID.match(session_id):
            return {"ok": False, "error": "no_session", "message": "send session_request first"}
        try:
            rating = int(data.get("rating"))  # type: ignore[arg-type]
            comment = str(data.get("comment") or "").strip()[:2000] or None
            event = FeedbackGiven(rating=rating, comment=comment)
        except (TypeError, ValueError):
            return {"ok": False, "error": "bad_rating", "message": "a rating is 1 to 5"}
        await self._conversations().append_events(session_id, [event])
        logger.info("conversation %s rated %d", session_id, rating)
        return {"ok": True}

    async def handle_transcript(self, sid: str, data: Any) -> dict[str, Any]:
        """E-mail the conversation to the address the visitor gave, through the assistant's
        `transcript_action` (with the address in the `email` slot)."""
        data = data if isinstance(data, dict) else {}
        action = self.settings.transcript_action
        if not action:
            return {"ok": False, "error": "off", "message": "this chat does not send transcripts"}
        session = await self.sio.get_session(sid) if self.sio else {}
        session_id = str(data.get("session_id") or session.get("session_id") or "")
        if not SESSION_ID.match(session_id):
            return {"ok": False, "error": "no_session", "message": "send session_request first"}
        email = str(data.get("email") or "").strip()
        if not EMAIL.match(email):
            return {"ok": False, "error": "bad_email", "message": "that is not an e-mail address"}
        output = WebChatOutput(self, in_turn=True)
        try:
            await self._conversations().execute_action(
                session_id, action, output, events=[SlotSet("email", email)]
            )
        except Exception:
            logger.exception("sending the transcript of '%s' failed", session_id)
            return {"ok": False, "error": "failed", "message": "the transcript was not sent"}
        return {"ok": True}

    # -- HTTP ----------------------------------------------------------------------------

    def widget_bytes(self) -> tuple[bytes, bytes, str]:
        """widget.js, gzipped once, and its ETag."""
        if self._widget is None:
            defaults = self.settings.widget.model_dump()
            defaults["max_message_chars"] = self.settings.max_message_chars
            defaults["transcript"] = bool(self.settings.transcript_action)
            defaults["speech"] = self.speech.describe()
            raw = (
                (STATIC / "widget.js")
                .read_text(encoding="utf-8")
                .replace("/*DEFAULTS*/{}", json.dumps(defaults, ensure_ascii=True))
                .encode("utf-8")
            )
            self._widget = (raw, gzip.compress(raw, 9), hashlib.sha256(raw).hexdigest()[:16])
        return self._widget

    def preflight(self, request: Request, error: Callable[..., HTTPResponse]) -> HTTPResponse:
        """The answer to a browser's CORS preflight of one of the chat's POST routes."""
        if not self._request_origin_allowed(request):
            return error(request, 403, "OriginNotAllowed", "this page may not use the chat")
        response = HTTPResponse(status=204)
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        return self._cors(request, response)

    def _cors(self, request: Request, response: HTTPResponse) -> HTTPResponse:
        origin = request.headers.get("origin")
        if origin and self._request_origin_allowed(request):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    def blueprint(
        self, on_new_message: OnNewMessage, conversations: Conversations | None = None
    ) -> Blueprint:
        self.cors_allowed_origins = self._socket_origin_allowed  # type: ignore[assignment]
        self.conversations = conversations
        self.attachments = AttachmentStore(self.settings.attachments, project_folder())
        bp = super().blueprint(on_new_message, conversations)
        assert isinstance(bp, SocketBlueprint) and self.sio is not None
        sio = self.sio
        shared = conversations.shared_redis() if conversations is not None else None
        if shared is not None:
            self._share(bp, shared)

        async def user_message(sid: str, data: Any) -> dict[str, Any]:
            return await self.handle_user_message(sid, data, on_new_message)

        sio.on(self.settings.user_message_evt, user_message)
        sio.on("session_request", self.handle_session_request)
        sio.on("feedback", self.handle_feedback)
        sio.on("transcript", self.handle_transcript)

        self._routes(bp)
        return bp

    def _share(self, bp: Blueprint, shared: SharedRedis) -> None:
        """Budgets and message ids in Redis, one for every server process of the assistant."""
        import redis.asyncio

        # The lock store's connections, which it closes; a client of our own otherwise.
        own = shared.client is None
        client = redis.asyncio.from_url(shared.url, socket_timeout=5) if own else shared.client
        prefix = f"{shared.key_prefix}parlez:webchat:"
        s = self.settings
        self.limiter = SharedRateLimiter(client, prefix + "budget:", s.messages_per_minute, s.burst)
        self.upload_limiter = SharedRateLimiter(
            client, prefix + "uploads:", s.attachments.per_minute, s.attachments.burst
        )
        self.seen = SharedSeenMessages(client, prefix + "seen:")
        self.speech.limiter = SharedRateLimiter(
            client, prefix + "speech:", s.speech.per_minute, s.speech.burst
        )
        self.tracking.limiter = SharedRateLimiter(client, prefix + "track:", PER_MINUTE, BURST)
        self.tracking.address_limiter = SharedRateLimiter(
            client, prefix + "track-address:", ADDRESS_PER_MINUTE, ADDRESS_BURST
        )

        async def close(*_: Any) -> None:
            await client.aclose()

        if own:
            bp.after_server_stop(close)

    def _routes(self, bp: Blueprint) -> None:
        def error(request: Request, status: int, reason: str, message: str) -> HTTPResponse:
            body = {"status": "failure", "code": status, "reason": reason, "message": message}
            return self._cors(
                request,
                HTTPResponse(json.dumps(body), status=status, content_type="application/json"),
            )

        @bp.get("/webchat/widget.js", name="webchat_widget")
        async def widget(request: Request) -> HTTPResponse:
            raw, zipped, etag = self.widget_bytes()
            headers = {
                "ETag": f'"{etag}"',
                "Cache-Control": "no-cache",
                "Access-Control-Allow-Origin": "*",
                "X-Content-Type-Options": "nosniff",
                "Vary": "Accept-Encoding",
            }
            if request.headers.get("if-none-match") == f'"{etag}"':
                return HTTPResponse(status=304, headers=headers)
            body = raw
            if "gzip" in request.headers.get("accept-encoding", ""):
                body, headers["Content-Encoding"] = zipped, "gzip"
            return HTTPResponse(
                body, headers=headers, content_type="text/javascript; charset=utf-8"
            )

        @bp.get("/webchat/", name="webchat_page")
        async def page(request: Request) -> HTTPResponse:
            html = (STATIC / "index.html").read_text(encoding="utf-8")
            html = html.replace(
                "__DEFAULTS__",
                json.dumps(self.settings.widget.model_dump()).replace("<", "\\u003c"),
            )
            return HTTPResponse(
                html,
                content_type="text/html; charset=utf-8",
                headers={"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN"},
            )

        @bp.get("/webchat/settings.json", name="webchat_settings")
        async def widget_settings(request: Request) -> HTTPResponse:
            body = self.settings.widget.model_dump()
            body["max_message_chars"] = self.settings.max_message_chars
            attachments = self.settings.attachments
            body["attachments"] = {
                "enabled": attachments.enabled,
                "max_bytes": attachments.max_bytes,
                "types": attachments.types,
            }
            body["speech"] = self.speech.describe()
            return self._cors(
                request,
                HTTPResponse(json.dumps(body), content_type="application/json"),
            )

        @bp.post("/webchat/upload", name="webchat_upload")
        async def upload(request: Request) -> HTTPResponse:
            if not self._request_origin_allowed(request):
                return error(request, 403, "OriginNotAllowed", "this page may not use the chat")
            if not self._authorised({"token": bearer_token(request)}):
                return error(request, 401, "NotAuthorized", "a valid token is needed")
            session_id = str(request.form.get("session_id") or "") if request.form else ""
            if not SESSION_ID.match(session_id):
                return error(request, 400, "BadRequest", "a session_id is needed")
            files = request.files.get("file") if request.files else None
            if files is None:
                return error(request, 400, "BadRequest", "send the file in the field 'file'")
            # By address too: a new session id per upload must not get past the limit.
            address = request.remote_addr or request.ip or "unknown"
            if await self.upload_limiter.spend(
                f"session:{session_id}"
            ) or await self.upload_limiter.spend(f"address:{address}"):
                return error(request, 429, "TooManyRequests", "too many files; wait a moment")
            try:
                stored = await asyncio.to_thread(
                    self.attachments.save, files.name, files.body, session_id
                )
            except AttachmentRefused as refused:
                return error(request, refused.status, refused.reason, refused.message)
            except AttachmentStoreError as failed:
                logger.error("%s", failed)
                return error(
                    request, 503, "StorageUnavailable", "the file could not be stored; try again"
                )
            logger.info(
                "stored the upload %s (%d bytes) of %s", stored.name, stored.size, session_id
            )
            return self._cors(
                request,
                HTTPResponse(
                    json.dumps(stored.describe()), status=201, content_type="application/json"
                ),
            )

        @bp.options("/webchat/upload", name="webchat_upload_preflight")
        async def upload_preflight(request: Request) -> HTTPResponse:
            return self.preflight(request, error)

        self.speech.routes(bp, error)
        self.tracking.routes(bp, error)

        @bp.get("/webchat/files/<name:str>", name="webchat_file")
        async def stored_file(request: Request, name: str) -> HTTPResponse:
            try:
                found = await asyncio.to_thread(self.attachments.read, name)
            except AttachmentStoreError as failed:
                logger.error("%s", failed)
                return error(request, 503, "StorageUnavailable", "the file cannot be read now")
            if found is None:
                return error(request, 404, "NotFound", "no such file")
            info, content = found
            disposition = "inline" if info.media_type.startswith("image/") else "attachment"
            quoted = info.original.replace('"', "")
            return HTTPResponse(
                content,
                content_type=info.media_type,
                headers={
                    "Content-Disposition": f'{disposition}; filename="{quoted}"',
                    "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'",
                    "Cache-Control": "private, max-age=86400",
                },
            )
