"""Which of a pipeline's languages a message is written in, told by lingua (the `languages`
extra) when it is sure; components that read other languages differently ask it, and so does
the assistant's language slot.

How sure is sure was measured on the customer messages of bench/conversations*.yml
(`python bench/multilingual.py`): no message taken for another language.
"""

from __future__ import annotations

import functools
import re
from typing import Any

#: lingua's names of the languages the components can read
LINGUA_NAMES = {"en": "ENGLISH", "fr": "FRENCH", "de": "GERMAN", "es": "SPANISH"}
#: a word, with its apostrophe ("c'est", "men's")
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
#: how sure lingua must be, among the candidate languages, before a message of three words or
#: more is said to be in one; of one or two words ("merci", "brushing"), which several
#: languages share, much surer
CONFIDENCE_FLOOR = 0.5
SHORT_CONFIDENCE_FLOOR = 0.9
#: Below its floor a language still decides when it leads the next one by this factor, from
#: a lower floor: "a beard trim" (English 0.46, Spanish 0.23), "um 15 Uhr" (two words:
#: German 0.81, English 0.11). Not for one word, which says too little. This took 3+ word
#: messages from 93.5 to 96.7 % with none wrong, and on the benchmark's other labelled
#: messages (intents, sentiment, knowledge-base questions), which it was not chosen on,
#: decided 3 more, all right.
LEAD_FACTOR = 1.5
LEAD_FLOOR = 0.3
#: From six words, a smaller lead decides: "est-ce qu'on peut changer l'heure de mon
#: brushing ?" is French 0.47, English 0.38 ("changer", "brushing"). On bench/multilingual.py's
#: messages it decided the last 3 of 269 of six words or more, all right; the benchmark's
#: other labelled messages, and names, are told as before.
LONG_MESSAGE = 6
LONG_LEAD_FACTOR = 1.2
SHORT_LEAD_FACTOR = 5.0
SHORT_LEAD_FLOOR = 0.75
#: A number ("10", "3:15") is no language's, but it makes two words a time, a date or a price
#: ("quarter past 10", "a las 12"), not a name or a word that several languages share: the
#: message is judged as one word longer. On bench/multilingual.py's messages, 3+ word
#: messages told right 96.7 -> 97.7 %, none wrong, names still none; the benchmark's other
#: labelled messages (few with a number) are told as before. Chosen on the first set.
NUMBER = re.compile(r"\d")
#: where an NLU component leaves a message's language in `Message.data`, when it told one
#: other than the pipeline's, for the components after it that read only the pipeline's
LANGUAGE_KEY = "language"


@functools.cache
def detector(among: tuple[str, ...]) -> Any:
    """lingua's detector for `among`, or None without the `languages` extra. Its models
    (about 150 MB for four languages) load now, on every core: 0.42 s on two, where loading
    them at the first message of five letters or more took 0.64 s on one. Either way lingua
    holds the GIL meanwhile. Its low-accuracy mode (trigrams only, 0.07 s) took 13 English
    messages of bench/multilingual.py for French or German."""
    try:
        import lingua
    except ImportError:
        return None
    languages = [getattr(lingua.Language, LINGUA_NAMES[code]) for code in among]
    return (
        lingua.LanguageDetectorBuilder.from_languages(*languages)
        .with_preloaded_language_models()
        .build()
    )


def sure(words: int, best: float, second: float) -> bool:
    """Whether lingua's `best` confidence, against the runner-up's, decides a message of
    `words` words."""
    if words == 1:
        return best >= SHORT_CONFIDENCE_FLOOR
    if words == 2:
        return best >= SHORT_CONFIDENCE_FLOOR or (
            best >= SHORT_LEAD_FLOOR and best >= SHORT_LEAD_FACTOR * second
        )
    factor = LONG_LEAD_FACTOR if words >= LONG_MESSAGE else LEAD_FACTOR
    return best >= CONFIDENCE_FLOOR or (best >= LEAD_FLOOR and best >= factor * second)


def counted(text: str, words: list[str]) -> int:
    """How many words `text`, whose words are `words`, counts as (see NUMBER)."""
    return len(words) + (1 if NUMBER.search(text) else 0)


def told(found: Any, words: list[str], count: int | None = None) -> str | None:
    """The language lingua's detector `found` is sure `words` are in, or None; `count` is
    how many words the message counts as (`counted`), `len(words)` by default."""
    if not words:
        return None
    best, second = found.compute_language_confidence_values(" ".join(words))[:2]
    if not sure(len(words) if count is None else count, best.value, second.value):
        return None
    return str(best.language.iso_code_639_1.name).lower()


def written_in(text: str, among: tuple[str, ...]) -> str | None:
    """The language of `text` among `among`, when lingua is sure; None otherwise."""
    found = detector(among) if len(among) > 1 else None
    words = WORD.findall(text)
    return None if found is None else told(found, words, counted(text, words))


def readable(languages: Any, pipeline_language: str) -> tuple[str, ...]:
    """The languages of a component's `languages:` and the pipeline's own, that lingua knows."""
    wanted = {str(code) for code in languages or ()} | {pipeline_language}
    return tuple(sorted(code for code in wanted if code in LINGUA_NAMES))
