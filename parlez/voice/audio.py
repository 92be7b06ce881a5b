"""Recorded speech as the engines take it: a WAV file read, checked, mixed down to one
channel and resampled to 16 kHz 16-bit PCM."""

from __future__ import annotations

import io
import wave
from math import gcd

import numpy as np

from parlez.voice.speech import SpeechError

RATE = 16000


class AudioError(SpeechError):
    """Audio a client sent that cannot be heard: not a WAV file, or too long."""

    code = "P431"


def samples_from_wav(data: bytes, max_seconds: float) -> tuple[bytes, float]:
    """The speech in a WAV file as 16 kHz mono 16-bit PCM, and its length in seconds."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.getnframes()
            if not rate or frames / rate > max_seconds:
                raise AudioError(f"the recording is longer than {max_seconds:g} seconds")
            raw = wav.readframes(frames)
    except (wave.Error, EOFError) as error:
        raise AudioError(f"the audio is not a PCM WAV file: {error}") from None
    if width != 2:
        raise AudioError(f"the audio has {8 * width}-bit samples; send 16-bit PCM")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    if rate != RATE:
        from scipy.signal import resample_poly

        common = gcd(RATE, rate)
        samples = resample_poly(samples, RATE // common, rate // common)
    pcm = np.clip(samples, -32768, 32767).astype("<i2")
    return pcm.tobytes(), len(pcm) / RATE


def wav_from_samples(pcm: bytes, rate: int = RATE) -> bytes:
    """16-bit mono PCM as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()
