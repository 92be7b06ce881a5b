"""Which of a pipeline's languages a message is written in, told by lingua (the `languages`
extra) when it is sure; components that read other languages differently ask it."""

from __future__ import annotations

import functools
import re
from typing import Any

#: lingua's names of the languages the components can read
LINGUA_NAMES = {"en": "ENGLISH", "fr": "FRENCH", "de": "GERMAN", "es": "SPANISH"}
WORD = re.compile(r"[^\W\d_]+")
#: lingua must be this sure of a message of three words or more (shorter: never sure)
DETECTION_FLOOR = 0.5


@functools.cache
def detector(among: tuple[str, ...]) -> Any:
    """lingua's detector for `among`, or None without the `languages` extra."""
    try:
        import lingua
    except ImportError:
        return None
    languages = [getattr(lingua.Language, LINGUA_NAMES[code]) for code in among]
    return lingua.LanguageDetectorBuilder.from_languages(*languages).build()


def written_in(text: str, among: tuple[str, ...]) -> str | None:
    """The language of `text` among `among`, when lingua is sure; None otherwise."""
    words = WORD.findall(text)
    found = detector(among) if len(among) > 1 and len(words) >= 3 else None
    if found is None:
        return None
    best = found.compute_language_confidence_values(" ".join(words))[0]
    if best.value < DETECTION_FLOOR:
        return None
    return str(best.language.iso_code_639_1.name).lower()


def readable(languages: Any, pipeline_language: str) -> tuple[str, ...]:
    """The languages of a component's `languages:` and the pipeline's own, that lingua knows."""
    wanted = {str(code) for code in languages or ()} | {pipeline_language}
    return tuple(sorted(code for code in wanted if code in LINGUA_NAMES))
