"""The speech engines: eSpeak NG says, PocketSphinx hears, recordings are read as the
engines take them, and an engine of one's own is named by its dotted path."""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Iterator

import numpy as np
import pytest

from parlez.voice.audio import AudioError, samples_from_wav, wav_from_samples
from parlez.voice.engines import speech_to_text, text_to_speech
from parlez.voice.speech import SpeechError, SpeechToText, TextToSpeech, Transcript
from tests.services import missing


def wav(samples: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(width)
        file.setframerate(rate)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def test_a_stereo_recording_at_44_khz_is_read_as_16_khz_mono() -> None:
    tone = (np.sin(np.arange(44100) / 44100 * 2 * np.pi * 440) * 8000).astype("<i2")
    stereo = np.repeat(tone, 2)  # both channels the same
    pcm, seconds = samples_from_wav(wav(stereo, 44100, channels=2), max_seconds=5)
    assert seconds == pytest.approx(1.0, abs=0.01)
    read = np.frombuffer(pcm, dtype="<i2")
    assert len(read) == 16000 and 7000 < np.abs(read).max() < 9000


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not a wav", "not a PCM WAV file"),
        (wav(np.zeros(16000 * 3, dtype="<i2"), 16000), "longer than 2 seconds"),
        (wav(np.zeros(100, dtype="u1"), 16000, width=1), "8-bit samples"),
    ],
)
def test_audio_that_cannot_be_heard_is_an_error_saying_why(data: bytes, problem: str) -> None:
    with pytest.raises(AudioError) as raised:
        samples_from_wav(data, max_seconds=2)
    assert problem in raised.value.message


@pytest.fixture(scope="module")
def speaker() -> TextToSpeech:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng")
    return text_to_speech("espeak-ng")


def test_espeak_says_an_answer_in_each_of_the_assistants_languages(speaker: TextToSpeech) -> None:
    for language, text in [
        ("en", "We are open from nine to six."),
        ("fr", "Nous sommes ouverts de neuf heures à dix-huit heures."),
        ("de", "Wir haben von neun bis achtzehn Uhr geöffnet."),
        ("es", "Abrimos de nueve a seis."),
    ]:
        pcm, _ = samples_from_wav(speaker.synthesize(text, language), max_seconds=30)
        # Speech, not silence: loud samples, as many as a sentence said takes.
        samples = np.frombuffer(pcm, dtype="<i2")
        assert np.abs(samples).max() > 1000 and len(samples) > 16000


def test_a_language_espeak_has_no_voice_for_is_an_error(speaker: TextToSpeech) -> None:
    with pytest.raises(SpeechError):
        speaker.synthesize("hello", "xx")


class Vocabulary:
    """What customers say, read from the project only when it is iterated."""

    def __init__(self, sentences: list[str]) -> None:
        self.sentences = sentences
        self.reads = 0

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self.sentences)


def test_pocketsphinx_hears_a_question_of_the_assistants_vocabulary(
    speaker: TextToSpeech,
) -> None:
    pytest.importorskip("pocketsphinx")
    vocabulary = Vocabulary(["what are your opening hours", "are you open on sunday"])
    listener = speech_to_text("pocketsphinx", vocabulary)
    assert vocabulary.reads == 0, "a starting server should not read the project for speech"
    import subprocess

    said = subprocess.run(
        ["espeak-ng", "-v", "en-us+f2", "-s", "130", "--stdout", "what are your opening hours"],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(said)) as file:
        rate = file.getframerate()
        frames = file.readframes(10**8)
    pcm, _ = samples_from_wav(wav_from_samples(frames, rate), max_seconds=10)
    heard = listener.transcribe(pcm, "en")
    assert vocabulary.reads == 1
    assert heard.text == "what are your opening hours"
    assert heard.confidence is not None and 0 < heard.confidence <= 1
    silence = listener.transcribe(bytes(32000), "en")
    assert silence.text == ""
    with pytest.raises(SpeechError):
        listener.transcribe(pcm, "fr")  # its model is English only


class Echo(SpeechToText):
    """An engine of one's own: hears the length of what it is given."""

    languages = frozenset({"en", "fr"})

    def __init__(self, vocabulary: list[str]) -> None:
        self.vocabulary = vocabulary

    def transcribe(self, samples: bytes, language: str) -> Transcript:
        return Transcript(f"{len(samples)} bytes in {language}", 1.0)


def test_an_engine_of_ones_own_is_named_by_its_dotted_path() -> None:
    engine = speech_to_text(f"{__name__}.Echo", ["hello"])
    assert isinstance(engine, Echo) and engine.vocabulary == ["hello"]
    assert engine.transcribe(b"ab", "fr").text == "2 bytes in fr"
    with pytest.raises(SpeechError):
        speech_to_text("no.such.Engine")
    with pytest.raises(SpeechError):
        text_to_speech(f"{__name__}.Echo")  # not a TextToSpeech
