"""The speech engines a setting names: the local ones by name, any other by the dotted path
of its class."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from parlez.voice.espeak import EspeakNg
from parlez.voice.pocketsphinx import PocketSphinx
from parlez.voice.speech import SpeechError, SpeechToText, TextToSpeech


def speech_to_text(name: str, vocabulary: Iterable[str] = ()) -> SpeechToText:
    """The engine `name` names: `pocketsphinx`, or the dotted path of a SpeechToText class
    (built with no argument, or with `vocabulary` if it takes one). `vocabulary` is what
    customers are expected to say (the NLU's examples): the local engine listens for it."""
    if name == "pocketsphinx":
        return PocketSphinx(vocabulary)
    engine = _engine(name, SpeechToText)
    try:
        built: SpeechToText = engine(vocabulary=list(vocabulary))
    except TypeError:  # an engine that takes no vocabulary
        built = engine()
    return built


def text_to_speech(name: str) -> TextToSpeech:
    """The engine `name` names: `espeak-ng`, or the dotted path of a TextToSpeech class."""
    if name == "espeak-ng":
        return EspeakNg()
    built: TextToSpeech = _engine(name, TextToSpeech)()
    return built


def _engine(name: str, kind: type[Any]) -> Any:
    """The class at the dotted path `name`, if it is a `kind`."""
    module, _, attribute = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), attribute) if module else None
    except (ImportError, AttributeError) as error:
        raise SpeechError(
            f"no {kind.__name__} engine '{name}': {error}",
            hint="pocketsphinx / espeak-ng, or the dotted path of your own class",
        ) from None
    if not (isinstance(found, type) and issubclass(found, kind)):
        raise SpeechError(
            f"'{name}' is not a {kind.__name__} class",
            hint="pocketsphinx / espeak-ng, or the dotted path of your own class",
        )
    return found
