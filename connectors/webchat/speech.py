"""Speaking to the assistant in the web chat: the widget's microphone.

The widget records what the visitor says and posts it as a WAV file to `/webchat/speech`;
the server's speech-to-text engine gives back the words, which the widget sends as the
visitor's message (with the engine's confidence in its metadata). Answers to a spoken
message are said: the widget posts each one's text to `/webchat/speech/say` and plays the
WAV file it gets. Both engines sit behind parlez/voice/speech.py's interfaces, local by
default (PocketSphinx, eSpeak NG); one that cannot run here is left out with warning P430
and the widget shows no microphone (or says nothing).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from connectors.webchat.limits import RateLimiter
from connectors.webchat.settings import SpeechSettings
from parlez.project import Project, project_folder
from parlez.voice.audio import AudioError, samples_from_wav
from parlez.voice.engines import speech_to_text, text_to_speech
from parlez.voice.speech import SpeechError, SpeechToText, TextToSpeech

if TYPE_CHECKING:
    from connectors.webchat.channel import WebChatInput

logger = logging.getLogger(__name__)

#: a WAV file's bytes for one second of the widget's recordings (16 kHz, 16-bit mono), with
#: room for a browser that sends 48 kHz stereo
BYTES_A_SECOND = 48000 * 2 * 2


class ProjectVocabulary:
    """What visitors are expected to say, read from the served project when the engine first
    needs it: the NLU's examples, the titles of the responses' buttons, and the names of
    the services of the assistant's business.yml, if it has one."""

    def __iter__(self) -> Iterator[str]:
        folder = project_folder()
        try:
            project = Project(folder)
            yield from (example.text for example in project.training_data.examples)
            for variations in project.domain.responses.values():
                for variation in variations:
                    for button in variation.get("buttons") or []:
                        yield str(button.get("title") or "")
        except Exception as error:  # the engine still hears everyday words
            logger.warning("P430 speech-to-text without the project's examples: %s", error)
        yield from service_names(folder / "business.yml")


def service_names(path: Path) -> Iterator[str]:
    """The services a business.yml lists, by name and alias ("a haircut", "a trim")."""
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, yaml.YAMLError):
        return
    for service in (settings or {}).get("services") or []:
        if isinstance(service, dict):
            for name in [service.get("name"), *(service.get("aliases") or [])]:
                if isinstance(name, str):
                    yield f"a {name}"


def engines(settings: SpeechSettings) -> tuple[SpeechToText | None, TextToSpeech | None]:
    """The engines the settings name; one that cannot run here is None, with P430 logged."""
    if not settings.enabled:
        return None, None
    listener: SpeechToText | None = None
    speaker: TextToSpeech | None = None
    try:
        listener = speech_to_text(settings.speech_to_text, ProjectVocabulary())
    except SpeechError as error:  # MissingExtraError is one too: pip install 'parlez[voice]'
        logger.warning("P430 the web chat's microphone is off: %s (%s)", error, error.hint)
    try:
        speaker = text_to_speech(settings.text_to_speech)
    except SpeechError as error:
        logger.warning("P430 the web chat does not say its answers: %s (%s)", error, error.hint)
    return listener, speaker


class WebChatSpeech:
    """The two speech routes of one web chat, with their own budget per visitor."""

    def __init__(self, channel: WebChatInput, settings: SpeechSettings) -> None:
        self.channel = channel
        self.settings = settings
        self.listener, self.speaker = engines(settings)
        self.limiter: Any = RateLimiter(settings.per_minute, settings.burst)

    def describe(self) -> dict[str, Any]:
        """What the widget may offer (`/webchat/settings.json`)."""
        return {
            "listen": self.listener is not None,
            "speak": self.speaker is not None,
            "languages": sorted(self.listener.languages) if self.listener else [],
            "max_seconds": self.settings.max_seconds,
        }

    async def _refused(
        self, request: Request, session_id: str, error: Callable[..., HTTPResponse]
    ) -> HTTPResponse | None:
        from connectors.webchat.channel import SESSION_ID, bearer_token

        channel = self.channel
        if not channel._request_origin_allowed(request):
            return error(request, 403, "OriginNotAllowed", "this page may not use the chat")
        if not channel._authorised({"token": bearer_token(request)}):
            return error(request, 401, "NotAuthorized", "a valid token is needed")
        if not SESSION_ID.match(session_id):
            return error(request, 400, "BadRequest", "a session_id is needed")
        address = request.remote_addr or request.ip or "unknown"
        if await self.limiter.spend(f"session:{session_id}") or await self.limiter.spend(
            f"address:{address}"
        ):
            return error(request, 429, "TooManyRequests", "too much speech; wait a moment")
        return None

    def routes(self, bp: Blueprint, error: Callable[..., HTTPResponse]) -> None:
        @bp.post("/webchat/speech", name="webchat_speech")
        async def hear(request: Request) -> HTTPResponse:
            """A recording in (WAV), its words out."""
            if self.listener is None:
                return error(request, 503, "SpeechUnavailable", "speech is not heard here")
            session_id = str(request.args.get("session_id") or "")
            refused = await self._refused(request, session_id, error)
            if refused is not None:
                return refused
            language = str(request.args.get("language") or "en")[:10]
            body = request.body or b""
            if len(body) > self.settings.max_seconds * BYTES_A_SECOND + 1024:
                return error(request, 413, "TooLarge", "the recording is too long")
            listener = self.listener
            try:
                samples, _ = samples_from_wav(body, self.settings.max_seconds)
                heard = await asyncio.to_thread(listener.transcribe, samples, language)
            except AudioError as bad:
                return error(request, 400, "BadRequest", bad.message)
            except SpeechError as failed:
                logger.warning("P430 speech-to-text failed: %s", failed)
                return error(request, 422, "NotHeard", failed.message)
            body_out = {
                "text": heard.text,
                "confidence": heard.confidence,
                "seconds": round(heard.seconds, 2),
            }
            return self.channel._cors(
                request, HTTPResponse(json.dumps(body_out), content_type="application/json")
            )

        @bp.post("/webchat/speech/say", name="webchat_speech_say")
        async def say(request: Request) -> HTTPResponse:
            """An answer's text in, a WAV file of it said out."""
            if self.speaker is None:
                return error(request, 503, "SpeechUnavailable", "answers are not said here")
            wanted = request.json if isinstance(request.json, dict) else {}
            session_id = str(wanted.get("session_id") or "")
            refused = await self._refused(request, session_id, error)
            if refused is not None:
                return refused
            text = wanted.get("text")
            if not isinstance(text, str) or not text.strip():
                return error(request, 400, "BadRequest", "send the 'text' to say")
            if len(text) > self.settings.max_chars:
                return error(request, 413, "TooLarge", "the text is too long to say")
            language = str(wanted.get("language") or "en")[:10]
            speaker = self.speaker
            try:
                audio = await asyncio.to_thread(speaker.synthesize, text, language)
            except SpeechError as failed:
                logger.warning("P430 text-to-speech failed: %s", failed)
                return error(request, 422, "NotSaid", failed.message)
            return self.channel._cors(
                request,
                HTTPResponse(
                    audio,
                    content_type="audio/wav",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
                ),
            )

        @bp.options("/webchat/speech", name="webchat_speech_preflight")
        async def hear_preflight(request: Request) -> HTTPResponse:
            return self._preflight(request, error)

        @bp.options("/webchat/speech/say", name="webchat_speech_say_preflight")
        async def say_preflight(request: Request) -> HTTPResponse:
            return self._preflight(request, error)

    def _preflight(self, request: Request, error: Callable[..., HTTPResponse]) -> HTTPResponse:
        if not self.channel._request_origin_allowed(request):
            return error(request, 403, "OriginNotAllowed", "this page may not use the chat")
        response = HTTPResponse(status=204)
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        return self.channel._cors(request, response)
