"""The knowledge base end to end, the way a business meets it (`bench/kb.py --end-to-end`).

For each FAQ set: a copy of the assistant in a temporary folder, the set imported with
`parlez kb import` as a business imports it (the template's sample content is replaced;
`--keep-sample`: the set joins it, as imports did before the template marked its sample;
`--replace`: the FAQ file's entries are replaced whatever they are),
`parlez train` (which reuses the unchanged model and indexes the knowledge base), then
`parlez run` and every query asked over REST in a conversation of its own. Each reply is:

- **right**: it carries a gold entry's answer (the text as written, or a cited source);
- **abstained**: "I don't know" and the offer of a person, with nothing answered;
- **wrong**: anything else: another entry's answer, a booking question, a greeting...

When the assistant asks which of two entries was meant (buttons), the simulated customer
clicks the gold one if it is offered, and the answer that follows is scored; with no gold
button it is an abstention. Queries with no gold entry (`faq_ids: []`) are questions the
knowledge base does not answer: there, abstaining is right and answering is wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.conversations import entry_buttons, prepare  # noqa: E402
from tests.fakes.llm import fake_llm  # noqa: E402
from tests.server.process import parlez_run  # noqa: E402

#: `--llm` choices: a scripted reader on the local wire-format fake, or a real provider
#: (its key from ANTHROPIC_API_KEY / OPENAI_API_KEY)
LLM_CHOICES = ("reader", "anthropic", "openai")

#: the responses that say "I don't know" (with the offer of a person)
ABSTAINING = (
    "utter_offer_handoff",
    "utter_offer_handoff_stuck",
    "utter_no_luck_handoff",
    "utter_handoff",
    "utter_default",
)


def abstaining_texts(domain: Path) -> set[str]:
    responses = yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"]
    return {
        " ".join(str(variation["text"]).split())
        for name in ABSTAINING
        for variation in responses.get(name, [])
        if variation.get("text")
    }


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass
class Scored:
    query: str
    gold: list[str]
    verdict: str  # "right", "abstained" or "wrong"
    asked: bool = False  # the assistant asked which entry was meant
    replies: list[str] = field(default_factory=list)
    ms: float = 0.0


class Asker:
    def __init__(self, url: str, answers: dict[str, str], abstaining: set[str]) -> None:
        self.url = url
        self.answers = {key: normalised(text) for key, text in answers.items()}
        self.abstaining = abstaining
        self.client = httpx.Client(timeout=60)
        self.latencies: list[float] = []

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        started = time.perf_counter()
        reply = self.client.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        self.latencies.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
        messages: list[dict[str, Any]] = reply.json()
        return messages

    def carries(self, messages: list[dict[str, Any]], gold: list[str]) -> bool:
        for message in messages:
            sources = (message.get("custom") or {}).get("sources") or []
            if sources and str(sources[0].get("id")) in gold:
                return True
            text = normalised(str(message.get("text") or ""))
            if any(self.answers.get(g) and self.answers[g] in text for g in gold):
                return True
        return False

    def abstains(self, messages: list[dict[str, Any]]) -> bool:
        texts = [" ".join(str(m.get("text") or "").split()) for m in messages]
        return bool(texts) and all(t in self.abstaining for t in texts if t)

    def ask(self, number: int, query: str, gold: list[str]) -> Scored:
        sender = f"kb-{number}"
        started = time.perf_counter()
        messages = self.say(sender, query)
        scored = Scored(query, gold, "wrong")
        choice = entry_buttons(messages)
        if choice:
            scored.asked = True
            clicked = next((b for b in choice if b[0] in gold), None)
            if clicked is None:
                scored.verdict = "abstained"
                scored.replies = [str(m.get("text") or "") for m in messages]
                scored.ms = (time.perf_counter() - started) * 1000
                return scored
            messages = self.say(sender, clicked[1])
        scored.replies = [str(m.get("text") or "") for m in messages]
        if gold and self.carries(messages, gold):
            scored.verdict = "right"
        elif not messages or self.abstains(messages):
            scored.verdict = "abstained"
        scored.ms = (time.perf_counter() - started) * 1000
        return scored


@dataclass
class Result:
    dataset: str
    scored: list[Scored]
    latencies: list[float]

    def rates(self, inside: bool) -> dict[str, float]:
        mine = [s for s in self.scored if bool(s.gold) == inside]
        counts = Counter(s.verdict for s in mine)
        n = max(len(mine), 1)
        answered = counts["right"] + counts["wrong"]
        return {
            "n": len(mine),
            "right": 100 * counts["right"] / n,
            "abstained": 100 * counts["abstained"] / n,
            "wrong": 100 * counts["wrong"] / n,
            "precision": 100 * counts["right"] / answered if answered else 0.0,
            "asked": 100 * sum(s.asked for s in mine) / n,
        }


def load_set(dataset: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    faqs = [json.loads(line) for line in (dataset / "faqs.jsonl").open(encoding="utf-8")]
    queries = [json.loads(line) for line in (dataset / "queries.jsonl").open(encoding="utf-8")]
    return faqs, queries


def parlez(*args: str, cwd: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("parlez")), *args],
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"},
    )


def run_set(
    dataset: Path,
    models: Path,
    project: Path = REPO,
    limit: int | None = None,
    replace: bool = False,
    keep_sample: bool = False,
    llm: str | None = None,
) -> Result:
    faqs, queries = load_set(dataset)
    if limit:
        queries = queries[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        archive = prepare(folder, models, project)
        (folder / "models").mkdir(exist_ok=True)
        shutil.copy(archive, folder / "models" / archive.name)
        flags = ["--replace"] * replace + ["--keep-sample"] * keep_sample
        parlez("kb", "import", str(dataset / "faqs.jsonl"), *flags, cwd=folder)
        parlez("train", cwd=folder)
        trained = sorted((folder / "models").glob("*.tar.gz"))[-1]
        asker = None
        with ExitStack() as stack:
            if llm == "reader":
                fake = stack.enter_context(fake_llm(reply=perfect_reader(faqs, queries)))
                with (folder / "endpoints.yml").open("a", encoding="utf-8") as endpoints:
                    endpoints.write(llm_endpoint("anthropic", fake.anthropic_url, "bench-key"))
            elif llm:
                with (folder / "endpoints.yml").open("a", encoding="utf-8") as endpoints:
                    endpoints.write(llm_endpoint(llm, None, f"${{{llm.upper()}_API_KEY}}"))
            server = stack.enter_context(parlez_run(folder, "-m", str(trained), "--enable-api"))
            asker = Asker(
                server.url,
                {f["id"]: f["answer"] for f in faqs},
                abstaining_texts(folder / "domain.yml"),
            )
            scored = [asker.ask(n, q["query"], list(q["faq_ids"])) for n, q in enumerate(queries)]
    return Result(dataset.name, scored, sorted(asker.latencies))


def llm_endpoint(kind: str, url: str | None, key: str) -> str:
    """endpoints.yml's `llm:` section for the served copy."""
    return f"llm:\n  type: {kind}\n  api_key: {key}\n" + (f"  base_url: {url}\n" if url else "")


def perfect_reader(
    faqs: list[dict[str, Any]], queries: list[dict[str, Any]]
) -> Callable[[dict[str, Any]], str]:
    """A scripted LLM that reads perfectly: it cites the passage of a gold entry when it was
    given one, and says NO_ANSWER otherwise. What it measures is the LLM path's ceiling (the
    search's recall of the right entry among the passages read, the routing, the parsing of
    citations), not a model: run `--llm anthropic` or `--llm openai` for that."""
    gold = {q["query"]: set(q["faq_ids"]) for q in queries}
    by_title = {f["question"]: f for f in faqs}

    def reply(body: dict[str, Any]) -> str:
        question = str(body["messages"][-1]["content"])
        for line in str(body.get("system") or "").splitlines():
            if line.startswith("[") and "] " in line:
                number, title = line[1:].split("] ", 1)
                entry = by_title.get(title)
                if entry is not None and entry["id"] in gold.get(question, set()):
                    return f"[{number}] {entry['answer']}"
        return "NO_ANSWER"

    return reply


def table(results: list[Result]) -> str:
    lines = [
        "| dataset | questions | right % | abstained % | **wrong %** | right when answered % "
        "| asked which % | outside: abstained % | reply p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        inside, outside = result.rates(True), result.rates(False)
        lat = result.latencies
        p99 = lat[int(0.99 * (len(lat) - 1))] if lat else 0.0
        lines.append(
            f"| {result.dataset} | {inside['n']} | {inside['right']:.1f} | "
            f"{inside['abstained']:.1f} | **{inside['wrong']:.1f}** | {inside['precision']:.1f} | "
            f"{inside['asked']:.1f} | "
            + (f"{outside['abstained']:.1f} ({outside['n']})" if outside["n"] else "-")
            + f" | {statistics.median(lat) if lat else 0:.0f} | {p99:.0f} |"
        )
    return "\n".join(lines)


def failures(result: Result) -> str:
    lines = []
    for s in result.scored:
        if (s.gold and s.verdict != "right") or (not s.gold and s.verdict != "abstained"):
            said = " / ".join(r[:90] for r in s.replies)
            lines.append(f"  [{s.verdict}] {s.query!r} (gold {', '.join(s.gold) or '-'}): {said}")
    return "\n".join(lines)
