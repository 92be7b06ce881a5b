"""Knowledge-base benchmark: FAQ sets with customers' questions (../shared/bench/kb/, bench/kb/).

    python bench/kb.py                       # BM25, dense and hybrid on every dataset
    python bench/kb.py --weights 0.3 0.5 0.7 # the hybrid's dense weight, swept
    python bench/kb.py --smoke               # 100 queries: for CI
    python bench/kb.py --end-to-end          # imported into the assistant, asked over REST
    python bench/kb.py --end-to-end --llm reader   # ... answered through the LLM path

Prints hit@1, hit@3 and MRR (over the top 10) of each method; the share of queries the
answer action would answer (best passage's cosine similarity >= the index's calibrated bar) and how
often that answer is the right entry; and the latency of one search (embedding the query
included) p50/p99, which is the answer action's latency without an LLM.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
KB = REPO.parent / "shared" / "bench" / "kb"
#: FAQ sets written for parlez (other domains than the assistant's), same layout
OWN_KB = REPO / "bench" / "kb"


def datasets(names: list[str] | None) -> list[Path]:
    every = sorted(
        p
        for root in (KB, OWN_KB)
        if root.is_dir()
        for p in root.iterdir()
        if (p / "faqs.jsonl").is_file()
    )
    if not names:
        return every
    chosen = [p for p in every if p.name in names]
    unknown = set(names) - {p.name for p in chosen}
    if unknown:
        raise SystemExit(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    return chosen


def load(dataset: Path) -> tuple[list[Any], list[dict[str, Any]]]:
    from parlez.knowledge.documents import faq_entries

    faqs = [json.loads(line) for line in (dataset / "faqs.jsonl").open(encoding="utf-8")]
    queries = [json.loads(line) for line in (dataset / "queries.jsonl").open(encoding="utf-8")]
    return faq_entries(faqs, str(dataset.name)), queries


def evaluate(index: Any, queries: list[dict[str, Any]], method: str) -> dict[str, float]:
    queries = [q for q in queries if q["faq_ids"]]  # questions the knowledge base answers
    hits1 = hits3 = answered = answered_right = 0
    reciprocal = 0.0
    latencies = []
    for query in queries:
        started = time.perf_counter()
        hits = index.search(query["query"], k=10, method=method)
        latencies.append((time.perf_counter() - started) * 1000)
        found = [h.passage.id for h in hits]
        right = set(query["faq_ids"])
        if hits and hits[0].confidence >= index.calibration.min_confidence:
            answered += 1  # the answer action would answer (else: "I don't know")
            answered_right += found[0] in right
        rank = next((i for i, pid in enumerate(found, start=1) if pid in right), None)
        hits1 += rank == 1
        hits3 += rank is not None and rank <= 3
        reciprocal += 1 / rank if rank else 0.0
    latencies.sort()
    n = len(queries)
    return {
        "hit@1": 100 * hits1 / n,
        "hit@3": 100 * hits3 / n,
        "mrr": reciprocal / n,
        "answered": 100 * answered / n,
        "answered_right": 100 * answered_right / max(answered, 1),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (n - 1))],
    }


def end_to_end(args: argparse.Namespace) -> int:
    from bench.kb_end_to_end import failures, run_set, table

    results = []
    for dataset in datasets(args.datasets):
        started = time.perf_counter()
        result = run_set(
            dataset,
            args.models,
            args.project,
            limit=40 if args.smoke else None,
            replace=args.replace,
            keep_sample=args.keep_sample,
            llm=args.llm,
        )
        results.append(result)
        print(
            f"{dataset.name}: {len(result.scored)} queries in {time.perf_counter() - started:.0f} s"
        )
        if args.show_failures:
            print(failures(result))
    print(table(results))
    return 0


def main() -> int:
    from parlez.knowledge.index import KnowledgeIndex

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--weights", nargs="*", type=float, default=None)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="import each set into a copy of the assistant, train, serve, ask over REST",
    )
    parser.add_argument("--models", type=Path, default=REPO / "models", help="(end to end)")
    parser.add_argument("--project", type=Path, default=REPO, help="(end to end) the assistant")
    parser.add_argument("--show-failures", action="store_true", help="(end to end)")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="(end to end) the set replaces the assistant's FAQ entries instead of joining them",
    )
    parser.add_argument(
        "--keep-sample",
        action="store_true",
        help="(end to end) the set joins the template's sample content instead of replacing it",
    )
    parser.add_argument(
        "--llm",
        choices=("reader", "anthropic", "openai"),
        default=None,
        help="(end to end) answers by an LLM: 'reader' is a scripted perfect reader on a local "
        "fake of Anthropic's API (the LLM path's ceiling); 'anthropic'/'openai' the real API, "
        "with ANTHROPIC_API_KEY / OPENAI_API_KEY",
    )
    args = parser.parse_args()
    if args.smoke:
        print("SMOKE run: figures are not measurements")
    if args.end_to_end:
        return end_to_end(args)
    print(
        "| dataset | method | hit@1 % | hit@3 % | MRR | answered % | right when answered % "
        "| search p50 ms | p99 ms | index s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dataset in datasets(args.datasets):
        passages, queries = load(dataset)
        if args.smoke:
            queries = queries[:100]
        started = time.perf_counter()
        index = KnowledgeIndex.build(passages)
        built = time.perf_counter() - started
        runs: list[tuple[str, str, float | None]] = [
            ("bm25", "bm25", None),
            ("dense", "dense", None),
        ]
        for weight in args.weights or [index.dense_weight]:
            runs.append((f"hybrid w={weight:g}", "hybrid", weight))
        for label, method, weight in runs:
            if weight is not None:
                index.dense_weight = weight
            r = evaluate(index, queries, method)
            print(
                f"| {dataset.name} | {label} | {r['hit@1']:.1f} | {r['hit@3']:.1f} | "
                f"{r['mrr']:.3f} | {r['answered']:.1f} | {r['answered_right']:.1f} | "
                f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {built:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
