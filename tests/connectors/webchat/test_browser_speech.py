"""Speaking in the web chat, in a real Chromium whose microphone plays a recording: the
question is heard on the server (PocketSphinx), sent as the visitor's message, and the
answer is said back (eSpeak NG) and played in the page."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.connectors.webchat.browser import served_assistant
from tests.services import missing

QUESTION = "what are your opening hours"


def recording(folder: Path, words: str) -> Path:
    """`words` said by eSpeak NG, as a microphone would hear a visitor: a moment of
    silence, the words, and silence until the widget stops recording (at 4 seconds)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        missing("espeak-ng")
    said = subprocess.run(
        [espeak, "-v", "en-us+f2", "-s", "130", "--stdout", words],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(said)) as wav:
        rate = wav.getframerate()
        frames = wav.readframes(wav.getnframes() if wav.getnframes() < 10**8 else 10**8)
    silence = bytes(2 * rate // 2)
    path = folder / "visitor.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(silence + frames + silence * 8)
    return path


@pytest.fixture(scope="module")
def setup(
    assistant_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str, Any]]:
    root = tmp_path_factory.mktemp("webchat-speech")
    microphone = recording(root, QUESTION)
    flags = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    )
    with served_assistant(
        assistant_models,
        root,
        "--enable-api",
        webchat="  speech:\n    max_seconds: 4\n",
        browser_flags=flags,
    ) as served:
        yield served


def test_a_spoken_question_gets_a_spoken_answer(setup: tuple[Any, str, Any]) -> None:
    server, site_url, browser = setup
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(site_url)
        page.locator(".launcher").click()
        page.locator(".msg.bot").first.wait_for()
        microphone = page.get_by_role("button", name="Speak")
        microphone.click()
        page.locator(".mic.on").wait_for()
        # The widget stops by itself at `max_seconds` and sends what it heard.
        question = page.locator(".msg.user").first
        question.wait_for()
        assert "opening hours" in question.inner_text()
        answer = page.locator(".msg.bot").nth(1)
        answer.wait_for()
        assert "09:00" in answer.inner_text()
        # ...and the answer is said: its audio fetched and played in the page.
        page.locator("[data-parlez-chat][data-said]").wait_for(state="attached")
        session = str(
            page.evaluate(
                "() => JSON.parse(Object.entries(localStorage)"
                ".find(([k]) => k.endsWith(':session'))[1])"
            )
        )
        deadline = time.monotonic() + 60
        while True:
            events = httpx.get(f"{server.url}/conversations/{session}/tracker").json()["events"]
            spoken = [e for e in events if e["event"] == "user" and "speech" in e["metadata"]]
            if spoken or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        (message,) = spoken
        assert 0 <= message["metadata"]["speech"]["confidence"] <= 1
    finally:
        context.close()


def test_the_speech_routes_refuse_other_pages_and_bad_audio(setup: tuple[Any, str, Any]) -> None:
    server, site_url, _ = setup
    url = f"{server.url}/webchat/speech"
    other = {"Origin": "https://elsewhere.example"}
    assert (
        httpx.post(url, params={"session_id": "s1"}, content=b"", headers=other).status_code == 403
    )
    bad = httpx.post(
        url, params={"session_id": "s1"}, content=b"not a wav", headers={"Origin": site_url}
    )
    assert bad.status_code == 400 and "WAV" in bad.json()["message"]
    say = httpx.post(
        f"{url}/say", json={"text": "Hello", "session_id": "s1"}, headers={"Origin": site_url}
    )
    assert say.status_code == 200 and say.content[:4] == b"RIFF"
    assert say.headers["content-type"] == "audio/wav"
