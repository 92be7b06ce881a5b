"""The web chat's settings, as written under its key in `credentials.yml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from parlez.exceptions import ParlezError

#: what a browser may upload: checked by the file's first bytes, not by what the browser says
DEFAULT_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"]


class WebChatConfigError(ParlezError):
    code = "P530"


class S3Settings(BaseModel):
    """An S3 bucket, or one of an S3-compatible store (`endpoint_url`); keys from ${VARS}."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=3)
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    prefix: str = "webchat/"


class AttachmentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: "disk" (`folder`) or "s3" (`s3:`)
    storage: str = Field("disk", pattern="^(disk|s3)$")
    s3: S3Settings | None = None
    folder: Path = Path("attachments")
    max_bytes: int = Field(5 * 1024 * 1024, gt=0)
    types: list[str] = Field(default_factory=lambda: list(DEFAULT_TYPES))
    #: uploads a minute, after a burst of `burst`, per conversation and per client address
    per_minute: float = Field(6, gt=0)
    burst: int = Field(5, gt=0)
    #: what one conversation may keep in files, and what all of them may keep together
    max_bytes_per_conversation: int = Field(25 * 1024 * 1024, gt=0)
    max_total_bytes: int = Field(1024 * 1024 * 1024, gt=0)

    @model_validator(mode="after")
    def s3_needs_a_bucket(self) -> AttachmentSettings:
        if self.storage == "s3" and self.s3 is None:
            raise ValueError("storage 's3' needs an 's3:' block with at least 'bucket'")
        return self


class SpeechSettings(BaseModel):
    """The microphone of the widget: what a visitor says is heard by `speech_to_text`, and
    the answers to it are said by `text_to_speech` (docs/webchat.md#speaking)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: `pocketsphinx`, or the dotted path of a parlez.voice.speech.SpeechToText class
    speech_to_text: str = "pocketsphinx"
    #: `espeak-ng`, or the dotted path of a parlez.voice.speech.TextToSpeech class
    text_to_speech: str = "espeak-ng"
    #: the longest recording the widget sends, in seconds
    max_seconds: float = Field(20, gt=0, le=120)
    #: the longest answer said, in characters
    max_chars: int = Field(1200, gt=0)
    #: recordings and spoken answers a minute, after a burst, per conversation and address
    per_minute: float = Field(30, gt=0)
    burst: int = Field(12, gt=0)


class WidgetDefaults(BaseModel):
    """What the widget shows unless the page's script tag says otherwise."""

    model_config = ConfigDict(extra="forbid")

    title: str = "Chat with us"
    subtitle: str = ""
    avatar: str = ""
    color: str = "#2f5bea"
    position: str = Field("right", pattern="^(left|right)$")
    language: str = ""
    greeting: str = ""
    open: bool = False
    prechat: bool = False


class WebChatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: pages allowed to talk to the chat besides the server's own ("*" for any)
    allowed_origins: list[str] = Field(default_factory=list)
    max_message_chars: int = Field(2000, gt=0)
    #: per conversation: a burst of `burst` messages, then `messages_per_minute`
    messages_per_minute: float = Field(20, gt=0)
    burst: int = Field(8, gt=0)
    history_messages: int = Field(100, ge=0)
    #: the intent an upload is given (the NLU does not read file names)
    attachment_intent: str | None = None
    #: the action that e-mails a visitor the conversation when they ask at the end (the
    #: `email` slot holds their address); none: the widget does not offer it
    transcript_action: str | None = None
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    widget: WidgetDefaults = Field(default_factory=WidgetDefaults)
    # Rasa's socket.io keys, accepted so a Rasa `socketio:` block can be moved here as it is
    user_message_evt: str = "user_uttered"
    bot_message_evt: str = "bot_uttered"
    socketio_path: str = "/socket.io"
    session_persistence: bool = True
    jwt_key: str | None = None
    jwt_method: str = "HS256"
    metadata_key: str = "metadata"

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> WebChatSettings:
        try:
            return cls.model_validate(raw or {})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in error.errors()
            )
            raise WebChatConfigError(
                f"the web chat's settings in credentials.yml are not valid: {problems}",
                hint="see docs/webchat.md for the keys and their defaults",
            ) from None
