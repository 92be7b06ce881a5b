"""The two halves of speech, each behind one small interface: `SpeechToText` hears what a
customer said, `TextToSpeech` says the assistant's answer. The local engines are the
defaults (parlez/voice/pocketsphinx.py, parlez/voice/espeak.py); a hosted speech service is
another class with the same method, named by its dotted path where an engine is configured
(the web chat's `speech:` settings, parlez/voice/engines.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from parlez.exceptions import ParlezError


class SpeechError(ParlezError):
    """An engine that cannot run here (not installed, no voice for a language), or that
    failed on one piece of audio or text."""

    code = "P430"


@dataclass(frozen=True)
class Transcript:
    """What was heard: the words (empty when nothing was), the engine's confidence in them
    (0-1, None if it gives none) and how long the audio was, in seconds."""

    text: str
    confidence: float | None = None
    seconds: float = 0.0


class SpeechToText(ABC):
    """Turns a customer's recorded speech into text."""

    #: the languages it hears (ISO 639-1 codes: "en")
    languages: frozenset[str] = frozenset()

    @abstractmethod
    def transcribe(self, samples: bytes, language: str) -> Transcript:
        """The words in `samples` (16 kHz, mono, 16-bit little-endian PCM, as
        parlez/voice/audio.py gives them), said in `language`. Blocking: call it off the
        event loop."""


class TextToSpeech(ABC):
    """Turns the assistant's answer into speech."""

    languages: frozenset[str] = frozenset()

    @abstractmethod
    def synthesize(self, text: str, language: str) -> bytes:
        """`text` said in `language`, as a WAV file. Blocking: call it off the event loop."""
