"""Speech-to-text on this machine: CMU PocketSphinx, whose wheel carries its US English
acoustic model and dictionary (nothing is downloaded).

PocketSphinx's general language model hears little of what customers of a small business
say; a model of the assistant's own language hears much more. The engine builds a trigram
model (PocketSphinx's ARPA builder) from the vocabulary it is given (the NLU's examples,
the buttons' titles, the business's services) and the words everyone uses to say dates,
times, numbers, answers and e-mail addresses, so that recognition is biased towards what
this assistant understands.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from parlez.extras import optional
from parlez.voice.speech import SpeechError, SpeechToText, Transcript

logger = logging.getLogger(__name__)

#: what any caller may say besides the assistant's own examples
EVERYDAY_ENGLISH = """
yes
no
yes please
no thanks
thank you
okay
sorry
hello
goodbye
i don't know
today
tomorrow
this morning
this afternoon
this evening
next week
monday tuesday wednesday thursday friday saturday sunday
on monday on tuesday on wednesday on thursday on friday on saturday on sunday
next monday next tuesday next wednesday next thursday next friday next saturday next sunday
january february march april may june july august september october november december
one two three four five six seven eight nine ten eleven twelve
thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty
first second third fourth fifth sixth seventh eighth ninth tenth twentieth thirtieth
at one o'clock at two o'clock at three o'clock at four o'clock at five o'clock
at half past four at quarter past ten at quarter to three at ten thirty
in the morning in the afternoon in the evening
a m p m
my name is
my email is
at dot com dot co dot uk underscore dash
my phone number is
oh zero double
"""

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
#: a sentence is kept for the language model when this share of its words is in the
#: dictionary: lines in other languages are left out
KNOWN_SHARE = 0.8


def _sentences(lines: Iterable[str], known: set[str]) -> list[str]:
    kept = []
    for line in lines:
        words = _WORD.findall(line.lower())
        if not words:
            continue
        inside = [w for w in words if w in known]
        if len(inside) / len(words) >= KNOWN_SHARE:
            kept.append(" ".join(inside))
    return kept


class PocketSphinx(SpeechToText):
    languages = frozenset({"en"})

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._pocketsphinx = optional("pocketsphinx", "speech-to-text with PocketSphinx")
        # read with the decoder, at the first recording: the web chat's vocabulary is the
        # project's training data, which a starting server would otherwise parse (0.1 s)
        self.vocabulary = vocabulary
        self._decoder: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        """The decoder, with a language model of the vocabulary (built once, ~0.5 s)."""
        ps = self._pocketsphinx
        model = Path(ps.get_model_path()) / "en-us"
        dictionary = model / "cmudict-en-us.dict"
        known = {line.split(" ", 1)[0] for line in dictionary.read_text().splitlines() if line}
        lines = [*self.vocabulary, *EVERYDAY_ENGLISH.splitlines()]
        sentences = _sentences(lines, known)
        # Each everyday word on its own as well: the day names, the numbers.
        sentences += [w for w in _WORD.findall(EVERYDAY_ENGLISH) if w in known]
        from pocketsphinx.lm import ArpaBoLM

        builder = ArpaBoLM(text="\n".join(sentences), add_start=True, case="lower")
        builder.compute()
        arpa = io.StringIO()
        builder.write(arpa)
        with tempfile.NamedTemporaryFile("w", suffix=".arpa", delete=False) as file:
            file.write(arpa.getvalue())
        try:
            decoder = ps.Decoder(
                hmm=str(model / "en-us"),
                dict=str(dictionary),
                lm=file.name,
                bestpath=True,
                loglevel="FATAL",
            )
        finally:
            Path(file.name).unlink(missing_ok=True)
        logger.info(
            "speech-to-text: PocketSphinx, listening for %d sentences of the assistant's",
            len(sentences),
        )
        return decoder

    def transcribe(self, samples: bytes, language: str) -> Transcript:
        if language.split("-")[0].lower() not in self.languages:
            raise SpeechError(
                f"PocketSphinx hears English only, not '{language}'",
                hint="configure a speech-to-text engine for that language",
            )
        # Silence around the words: PocketSphinx's normalisation of the signal needs it.
        padding = bytes(2 * 8000)
        with self._lock:  # one decoder, not safe to share between threads
            if self._decoder is None:
                self._decoder = self._build()
            decoder = self._decoder
            decoder.start_utt()
            decoder.process_raw(padding + samples + padding, full_utt=True)
            decoder.end_utt()
            found = decoder.hyp()
        seconds = len(samples) / 32000
        if found is None or not found.hypstr:
            return Transcript("", None, seconds)
        # With `bestpath`, the hypothesis's probability is its posterior given the audio.
        confidence = max(0.0, min(1.0, float(found.prob)))
        return Transcript(found.hypstr, confidence, seconds)
