"""Text-to-speech on this machine: eSpeak NG (Debian's `espeak-ng`), which speaks the
assistant's four languages and many more."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from parlez.voice.speech import SpeechError, TextToSpeech
from parlez.voice.spoken import spoken

#: eSpeak NG's voice for each language: a clearer female variant than the default
VOICES = {"en": "en-gb+f2", "fr": "fr+f2", "de": "de+f2", "es": "es+f2"}
#: words a minute; eSpeak's default (175) is fast for a customer listening
SPEED = 155
#: what one answer may take to say at most
TIMEOUT = 30


class EspeakNg(TextToSpeech):
    languages = frozenset(VOICES)

    def __init__(self) -> None:
        found = shutil.which("espeak-ng")
        if found is None:
            raise SpeechError(
                "text-to-speech needs eSpeak NG, which is not installed",
                hint="apt-get install espeak-ng",
            )
        self.executable = found

    def synthesize(self, text: str, language: str) -> bytes:
        voice = VOICES.get(language.split("-")[0].lower())
        if voice is None:
            raise SpeechError(f"no eSpeak NG voice for '{language}'")
        said = " ".join(spoken(text))
        # To a file: on stdout, eSpeak cannot go back to write the WAV header's lengths.
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "said.wav"
            try:
                subprocess.run(
                    [self.executable, "-v", voice, "-s", str(SPEED), "--stdin", "-w", str(out)],
                    input=said.encode(),
                    capture_output=True,
                    timeout=TIMEOUT,
                    check=True,
                )
                return out.read_bytes()
            except (subprocess.SubprocessError, OSError) as error:
                raise SpeechError(f"eSpeak NG could not say the answer: {error}") from None
