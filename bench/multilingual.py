"""Multilingual benchmark: how well the assistant tells which of its languages a customer
writes in.

    python bench/multilingual.py            # every message of the conversation scripts
    python bench/multilingual.py --smoke    # the first 40: for CI

The messages are what the customers of bench/conversations*.yml say (their openings and
the facts they give when asked: times, services, yes and no), labelled with their script's
language. Names and e-mail addresses are kept apart: they belong to no language, and the
detector must leave them undecided, or a French customer called "Lukas Fischer" would be
answered in German.

Printed, by message length in words: messages, decided (%), right when decided (%), and
accuracy (right over all); then how many names and addresses were wrongly given a language,
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


def words(text: str) -> int:
    return len(text.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the first 40 messages, for CI")
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


if __name__ == "__main__":
    main()
