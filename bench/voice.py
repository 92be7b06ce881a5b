"""Voice benchmark: the local speech path on a spoken test set, and scripted phone calls.

    python bench/voice.py                       # both parts, with the model in models/
    python bench/voice.py --smoke --models DIR  # a few of each: for CI

**Spoken test set.** The English customer messages of the held-out conversation scripts
(bench/conversations_heldout.yml: questions, handoffs, off-topic; and the openings and time
phrases of bench/conversations_booking_heldout.yml), said by eSpeak NG in two voices and
heard by PocketSphinx with the language model parlez builds from the assistant's NLU
examples (none of these sentences is among them). Printed per voice: the word error rate
(on the messages without digits, whose spoken words a reference cannot give), the share of
messages heard word for word, intent accuracy (the trained NLU's intent of what was heard
against its intent of what was written), date/time extraction accuracy (the time the
assistant reads in what was heard against the one it reads in what was written), and the
real-time factor of the speech-to-text on this CPU.

**Scripted calls.** Every booking of bench/conversations_booking_heldout.yml, and every
English lead of bench/conversations_heldout.yml, as a phone call through the `twilio_voice` channel of a `parlez run`, from a local stand-in for Twilio
that signs its requests and reads the TwiML answers: the customer answers what the assistant
asks (bench/conversations.py's scripted customers), says their e-mail address as people do
("arthur dot penn at example dot org") and confirms by voice. What the caller says is given
to the webhook as Twilio would transcribe a clear caller (the text itself), or, with
`--local-speech`, as PocketSphinx hears eSpeak saying it. Printed: bookings right (in the
calendar, as asked), leads saved, and the time from the caller's words reaching the webhook
to its TwiML answer, p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from actions.business import business  # noqa: E402
from actions.integrations.calendar import LocalCalendar  # noqa: E402
from actions.integrations.crm import LeadStore  # noqa: E402
from actions.integrations.database import database  # noqa: E402
from actions.when import understand_time  # noqa: E402
from bench.conversations import (  # noqa: E402
    Facts,
    Outcome,
    empty,
    follow,
    local,
    prepare,
)
from connectors.webchat.speech import ProjectVocabulary  # noqa: E402
from parlez.agent import Agent  # noqa: E402
from parlez.voice.audio import samples_from_wav  # noqa: E402
from parlez.voice.pocketsphinx import PocketSphinx  # noqa: E402
from tests.fakes.twilio import twilio_signature  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402

QUESTIONS = REPO / "bench" / "conversations_heldout.yml"
BOOKINGS = REPO / "bench" / "conversations_booking_heldout.yml"
#: eSpeak NG's voices the test set is said in (US English: PocketSphinx's model is)
VOICES = ("en-us+f2", "en-us+m3")
SPEED = "140"
EMAIL = re.compile(r"^([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)$")
#: a choice read out that books: "Press 2 for Book an appointment."
BOOKING_CHOICE = re.compile(r"Press (\d) for Book", re.IGNORECASE)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions, insertions and deletions between two word lists (Levenshtein)."""
    row = list(range(len(heard) + 1))
    for i, word in enumerate(reference, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(heard, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def said_email(text: str) -> str:
    """An e-mail address as a caller says it: "arthur dot penn at example dot org"."""
    found = EMAIL.match(text.strip())
    if not found:
        return text
    local_part, domain = found.groups()
    spoken = local_part.replace(".", " dot ").replace("_", " underscore ").replace("-", " dash ")
    return f"{spoken} at {domain.replace('.', ' dot ')}"


def spoken_set(smoke: bool) -> tuple[list[str], list[tuple[str, dt.datetime]]]:
    """The English messages of the held-out scripts, and the booking time phrases (with
    their scripts' clock)."""
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    bookings = yaml.safe_load(BOOKINGS.read_text(encoding="utf-8"))
    messages: list[str] = []
    for script in questions["conversations"]:
        if script.get("language", questions.get("language", "en")) != "en":
            continue
        if script["kind"] in ("question", "handoff", "offtopic"):
            said = script["say"]
            messages += [said] if isinstance(said, str) else list(said)
    times: list[tuple[str, dt.datetime]] = []
    now = dt.datetime.fromisoformat(bookings["now"])
    for script in bookings["conversations"]:
        if script.get("language", "en") != "en":
            continue
        said = script["say"]
        messages += [said] if isinstance(said, str) else list(said)
        value = script.get("facts", {}).get("time")
        for phrase in value if isinstance(value, list) else [value] if value else []:
            times.append((str(phrase), now))
    messages = list(dict.fromkeys(m for m in messages if words(m)))
    if smoke:
        return messages[:6], times[:4]
    return messages, times


def vocabulary() -> list[str]:
    """What the web chat's engine listens for in the assistant: the same language model."""
    os.environ["PARLEZ_PROJECT"] = str(REPO)
    return list(ProjectVocabulary())


def espeak(text: str, voice: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "said.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", SPEED, "-w", str(out), text],
            check=True,
            capture_output=True,
        )
        return out.read_bytes()


@dataclass
class Heard:
    text: str
    heard: str
    audio_seconds: float
    stt_seconds: float


@dataclass
class VoiceFigures:
    voice: str
    heard: list[Heard] = field(default_factory=list)
    intents_same: int = 0
    intents: int = 0
    times_same: int = 0
    times: int = 0


def hear_all(listener: PocketSphinx, texts: list[str], voice: str) -> list[Heard]:
    found = []
    for text in texts:
        samples, seconds = samples_from_wav(espeak(text, voice), max_seconds=60)
        started = time.perf_counter()
        heard = listener.transcribe(samples, "en").text
        found.append(Heard(text, heard, seconds, time.perf_counter() - started))
    return found


def spoken_part(model: Path, smoke: bool) -> list[VoiceFigures]:
    messages, times = spoken_set(smoke)
    listener = PocketSphinx(vocabulary())
    agent = Agent.load(model)
    settings = business(REPO / "business.yml")

    async def intent(text: str) -> str | None:
        parsed = await agent.parse_message(text)
        return (parsed.get("intent") or {}).get("name")

    figures = []
    for voice in VOICES:
        mine = VoiceFigures(voice)
        mine.heard = hear_all(listener, messages, voice)
        for item in mine.heard:
            mine.intents += 1
            mine.intents_same += asyncio.run(intent(item.text)) == asyncio.run(intent(item.heard))
        for (phrase, now), item in zip(
            times, hear_all(listener, [t for t, _ in times], voice), strict=True
        ):
            wanted = understand_time(phrase, settings, now)
            if wanted is None:
                continue  # the written phrase alone names no time (a part of one)
            mine.times += 1
            got = understand_time(item.heard, settings, now)
            mine.times_same += got is not None and got.start == wanted.start
            mine.heard.append(item)
        figures.append(mine)
    return figures


# ---- scripted calls ------------------------------------------------------------------------


@dataclass
class Caller:
    """One scripted customer on the phone: what they say goes to the webhook as Twilio's
    signed `SpeechResult`; the assistant's answers are what the TwiML says."""

    url: str
    number: str
    outcome: Outcome
    listener: PocketSphinx | None = None
    sid: str = ""
    turns: int = 0
    booked_at: int | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def post(self, form: dict[str, str]) -> list[dict[str, Any]]:
        full = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": self.sid,
            "From": self.number,
            "To": "+15550002222",
            "Direction": "inbound",
            **form,
        }
        headers = twilio_signature(self.url, full, TOKEN)
        started = time.perf_counter()
        reply = httpx.post(self.url, data=full, headers=headers, timeout=60)
        self.latencies.append(time.perf_counter() - started)
        reply.raise_for_status()
        said = re.findall(r"<Say[^>]*>(.*?)</Say>", reply.text, flags=re.S)
        answers = [{"text": html_text(s)} for s in said]
        self.messages += answers
        self.outcome.transcript += [f"< {a['text']}" for a in answers]
        return answers

    def ring(self) -> list[dict[str, Any]]:
        return self.post({"CallStatus": "ringing"})

    def choose_booking(self, asked: str) -> list[dict[str, Any]] | None:
        """Nothing asked, but the choices read out name a booking: a caller who wants one
        presses its key, as callers do."""
        choice = BOOKING_CHOICE.search(asked) if self.booked_at is None else None
        return self.press(choice.group(1)) if choice else None

    def press(self, keys: str) -> list[dict[str, Any]]:
        self.turns += 1
        self.outcome.transcript.append(f"> (presses {keys})")
        return self.post({"CallStatus": "in-progress", "Digits": keys})

    def say(self, text: str) -> list[dict[str, Any]]:
        spoken = said_email(text)
        if self.listener is not None:
            samples, _ = samples_from_wav(espeak(spoken, VOICES[0]), max_seconds=60)
            spoken = self.listener.transcribe(samples, "en").text or ""
        self.turns += 1
        self.outcome.transcript.append(f"> {spoken}")
        if not spoken:
            return self.post({"CallStatus": "in-progress"})  # heard nothing: a silence
        return self.post({"CallStatus": "in-progress", "SpeechResult": spoken, "Confidence": "0.9"})


def html_text(said: str) -> str:
    import html

    return html.unescape(said.strip())


TOKEN = "bench-twilio-token"


def calls_part(
    model: Path, folder: Path, smoke: bool, local_speech: bool
) -> tuple[list[Outcome], list[float]]:
    spec = yaml.safe_load(BOOKINGS.read_text(encoding="utf-8"))
    scripts = [s for s in spec["conversations"] if s["kind"] == "booking"]
    leads = [
        s
        for s in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["conversations"]
        if s["kind"] == "lead" and s.get("language", "en") == "en"
    ]
    if smoke:
        scripts, leads = scripts[:2], leads[:1]
    now = dt.datetime.fromisoformat(spec["now"])
    zone = ZoneInfo(yaml.safe_load((REPO / "business.yml").read_text())["timezone"])
    (folder / "credentials.yml").write_text(
        "twilio_voice:\n  auth_token: ${TWILIO_AUTH_TOKEN}\n  initial_prompt: /greet\n",
        encoding="utf-8",
    )
    os.environ["PARLEZ_NOW"] = now.isoformat()
    os.environ["TWILIO_AUTH_TOKEN"] = TOKEN
    listener = PocketSphinx(vocabulary()) if local_speech else None
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    calendar = LocalCalendar(database(folder))
    with parlez_run(folder, "-m", str(model)) as server:
        webhook = f"{server.url}/webhooks/twilio_voice/webhook"
        for index, script in enumerate([*scripts, *leads]):
            empty(calendar)
            said = script["say"]
            outcome = Outcome(script["kind"], said if isinstance(said, str) else said[0])
            caller = Caller(webhook, f"+44770090{index:04d}", outcome, listener, f"CA{index:032d}")
            caller.ring()
            facts = Facts(script["facts"], "en")
            follow(caller, said, facts, caller.choose_booking)
            if script["kind"] == "lead":
                emails = {lead.email for lead in LeadStore(database(folder)).all()}
                outcome.correct = facts["email"] in emails
                outcome.note = f"no lead for {facts['email']}" if not outcome.correct else ""
            else:
                booked = calendar.upcoming(facts["email"], now)
                found = [(a.service, local(a.start, zone)) for a in booked]
                want = (script["expect"]["service"], script["expect"]["start"])
                outcome.correct = found == [want]
                outcome.wrong = bool(booked) and not outcome.correct
                outcome.note = f"calendar has {found or 'nothing'}, wanted {want}"
            outcomes.append(outcome)
            latencies += caller.latencies[1:]  # the first is the call's start, not an answer
    return outcomes, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--smoke", action="store_true", help="a few of each part")
    parser.add_argument(
        "--local-speech",
        action="store_true",
        help="the calls' words go through eSpeak NG and PocketSphinx before the webhook",
    )
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console()
    tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = prepare(folder, args.models)
        figures = spoken_part(model, args.smoke)
        outcomes, latencies = calls_part(model, folder, args.smoke, args.local_speech)
    _, peak = tracemalloc.get_traced_memory()

    table = Table(title="the spoken test set: eSpeak NG says it, PocketSphinx hears it")
    for column in (
        "voice",
        "messages",
        "WER",
        "word for word",
        "intent kept",
        "date/time kept",
        "RTF",
    ):
        table.add_column(column, justify="left" if column == "voice" else "right")
    for f in figures:
        plain = [h for h in f.heard if not re.search(r"\d", h.text)]
        errors = sum(word_errors(words(h.text), words(h.heard)) for h in plain)
        total = sum(len(words(h.text)) for h in plain)
        exact = sum(words(h.text) == words(h.heard) for h in f.heard)
        rtf = sum(h.stt_seconds for h in f.heard) / max(1e-9, sum(h.audio_seconds for h in f.heard))
        table.add_row(
            f.voice,
            str(len(f.heard)),
            f"{100 * errors / max(1, total):.1f} %",
            f"{100 * exact / max(1, len(f.heard)):.1f} %",
            f"{100 * f.intents_same / max(1, f.intents):.1f} %",
            f"{100 * f.times_same / max(1, f.times):.1f} % ({f.times})",
            f"{rtf:.3f}",
        )
    console.print(table)
    console.print(
        "WER on the messages without digits; intent kept: the NLU's intent of what was heard "
        "is its intent of what was written; RTF: seconds of speech-to-text a second of speech"
    )

    heard_as = "PocketSphinx hearing eSpeak" if args.local_speech else "Twilio's transcript"
    calls = Table(title=f"scripted calls through twilio_voice ({heard_as})")
    for column in ("kind", "calls", "right", "%", "wrong"):
        calls.add_column(column, justify="left" if column == "kind" else "right")
    for kind in ("booking", "lead"):
        mine = [o for o in outcomes if o.kind == kind]
        right = sum(o.correct for o in mine)
        calls.add_row(
            kind,
            str(len(mine)),
            str(right),
            f"{100 * right / max(1, len(mine)):.1f}",
            str(sum(o.wrong for o in mine)),
        )
    console.print(calls)
    console.print(
        f"the webhook's answer to a caller's words: p50 {1000 * percentile(latencies, 0.5):.0f} ms, "
        f"p99 {1000 * percentile(latencies, 0.99):.0f} ms"
    )
    console.print(
        f"{len(latencies)} answers; {len(latencies) / max(1e-9, sum(latencies)):.1f} answers a "
        f"second, one call at a time; peak memory of this process (tracemalloc): "
        f"{peak / 2**20:.0f} MiB"
    )
    if args.show_failures:
        for outcome in outcomes:
            if not outcome.correct:
                console.print(f"[bold]{outcome.opening}[/]: {outcome.note}")
                for line in outcome.transcript:
                    console.print("   " + line, markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
