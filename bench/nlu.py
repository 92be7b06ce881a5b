"""NLU benchmark: parlez's default pipeline on public datasets, against two references:
TF-IDF + logistic regression, and a plain `transformers` fine-tune of the same encoder.

    python bench/nlu.py                       # every dataset, parlez and both references
    python bench/nlu.py --datasets clinc150 --no-finetune-reference   # skip the slow one
    python bench/nlu.py --smoke               # a few hundred examples, a couple of epochs

Each (dataset, system) runs in its own process so that peak RSS is its own. Figures are on
the official test split; CLINC150 adds out-of-scope recall and in-scope accuracy (a message
predicted as `out_of_scope` or `nlu_fallback` counts as out of scope). Entity F1 is exact span
match (conlleval). Latency is one message at a time through the loaded pipeline, after a
warm-up of 200 other messages.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "bench" / "nlu"
DATASETS = ["snips_goo2018", "snips", "clinc150"]
OUT_OF_SCOPE = {"out_of_scope", "nlu_fallback"}


def _load(dataset: str, split: str, limit: int | None) -> Any:
    from parlez.diagnostics import collect
    from parlez.project import DataFiles, read_data_file

    files = DataFiles()
    with collect():
        read_data_file(SHARED / dataset / f"{split}.yml", files)
    data = files.nlu
    if limit:
        data.examples = data.examples[:: max(len(data.examples) // limit, 1)][:limit]
    return data


def _scores(targets: list[str], predictions: list[str], entity_f1: float | None) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    scores: dict[str, Any] = {
        "intent_accuracy": sum(t == p for t, p in zip(targets, predictions, strict=True))
        / len(targets),
        "intent_macro_f1": float(
            f1_score(
                targets, predictions, labels=sorted(set(targets)), average="macro", zero_division=0
            )
        ),
        "entity_f1": entity_f1,
    }
    if "out_of_scope" in targets:
        oos = [
            p in OUT_OF_SCOPE
            for t, p in zip(targets, predictions, strict=True)
            if t == "out_of_scope"
        ]
        inscope = [t == p for t, p in zip(targets, predictions, strict=True) if t != "out_of_scope"]
        scores["oos_recall"] = sum(oos) / len(oos)
        scores["inscope_accuracy"] = sum(inscope) / len(inscope)
    return scores


def _latency(parse: Callable[[str], object], texts: list[str]) -> dict[str, float]:
    """p50 and p99 of one message at a time, in the steady state: 200 other test messages
    are parsed first (the first message of each length makes oneDNN build its kernels),
    then up to 1,000 are timed, so that p99 is not just the third-slowest of 300."""
    warm = texts[-200:]
    timed = texts[: max(len(texts) - len(warm), len(texts) // 2)][:1000]
    for text in warm:
        parse(text)
    latencies = []
    for text in timed:
        started = time.perf_counter()
        parse(text)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def run_parlez(dataset: str, limit: int | None, epochs: int | None) -> dict[str, Any]:
    """The default pipeline; PARLEZ_BENCH_DIET='{"drop_rate": 0.3}' overrides DIET parameters."""
    from parlez.config import Config
    from parlez.diagnostics import collect
    from parlez.evaluation.nlu import entity_report, evaluate
    from parlez.nlu.pipeline import Pipeline

    train, test = (
        _load(dataset, "train", limit),
        _load(dataset, "test", limit and max(limit // 4, 50)),
    )
    config = Config.from_raw({"assistant_id": "bench", "language": "en"})
    overrides = json.loads(os.environ.get("PARLEZ_BENCH_DIET", "{}"))
    for item in config.pipeline:
        if item.name == "DIETClassifier":
            item.params.update(overrides)
        if epochs is not None and "epochs" in item.params:
            item.params["epochs"] = epochs
    started = time.perf_counter()
    with collect():
        pipeline = Pipeline.from_config(config.pipeline, config.language).train(train)
    training = time.perf_counter() - started
    result = evaluate(pipeline, test)
    extractors = [e for e in result.extractors if e != "DucklingEntityExtractor"]
    entity_f1 = (
        entity_report(result, extractors[0])["micro avg"]["f1-score"]
        if result.has_entities and extractors
        else None
    )
    scores = _scores(
        [r.target for r in result.intents], [r.prediction or "" for r in result.intents], entity_f1
    )
    return scores | {"train_seconds": training} | _latency(pipeline.parse, test.texts())


def run_tfidf(dataset: str, limit: int | None) -> dict[str, Any]:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train, test = (
        _load(dataset, "train", limit),
        _load(dataset, "test", limit and max(limit // 4, 50)),
    )
    started = time.perf_counter()
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    texts = train.texts()
    features = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    model = LogisticRegression(C=10, max_iter=2000).fit(
        features, [m.intent for m in train.examples]
    )
    training = time.perf_counter() - started
    test_features = hstack([words.transform(test.texts()), chars.transform(test.texts())]).tocsr()
    predictions = list(model.predict(test_features))

    def parse(text: str) -> None:
        model.predict(hstack([words.transform([text]), chars.transform([text])]).tocsr())

    return (
        _scores([m.intent for m in test.examples], predictions, None)
        | {"train_seconds": training}
        | _latency(parse, test.texts())
    )


def run_finetune(dataset: str, limit: int | None, epochs: int | None) -> dict[str, Any]:
    """What a user would do without a framework: fine-tune the same encoder for intents."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from parlez.nlu.encoder import packaged_model_path

    train, test = (
        _load(dataset, "train", limit),
        _load(dataset, "test", limit and max(limit // 4, 50)),
    )
    labels = sorted(train.intents)
    index = {name: i for i, name in enumerate(labels)}
    path = str(packaged_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(labels), local_files_only=True
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    torch.manual_seed(0)
    started = time.perf_counter()
    examples = [(m.text, index[m.intent]) for m in train.examples if m.intent in index]
    for _ in range(epochs or 3):
        order = torch.randperm(len(examples)).tolist()
        model.train()
        for start in range(0, len(order), 32):
            batch = [examples[i] for i in order[start : start + 32]]
            encoded = tokenizer(
                [t for t, _ in batch],
                padding=True,
                truncation=True,
                max_length=64,
                return_tensors="pt",
            )
            loss = model(**encoded, labels=torch.tensor([y for _, y in batch])).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    training = time.perf_counter() - started
    model.eval()
    predictions = []
    with torch.inference_mode():
        for start in range(0, len(test.examples), 128):
            texts = test.texts()[start : start + 128]
            encoded = tokenizer(
                texts, padding=True, truncation=True, max_length=64, return_tensors="pt"
            )
            predictions += [labels[i] for i in model(**encoded).logits.argmax(-1).tolist()]

    def parse(text: str) -> None:
        with torch.inference_mode():
            model(**tokenizer([text], return_tensors="pt"))

    return (
        _scores([m.intent for m in test.examples], predictions, None)
        | {"train_seconds": training}
        | _latency(parse, test.texts())
    )


SYSTEMS = {"parlez": run_parlez, "tfidf+logreg": run_tfidf, "minilm fine-tune": run_finetune}


def one(system: str, dataset: str, limit: int | None, epochs: int | None) -> None:
    """Child process: run one system on one dataset and print its figures as JSON."""
    runner = SYSTEMS[system]
    result = runner(dataset, limit) if system == "tfidf+logreg" else runner(dataset, limit, epochs)  # type: ignore[operator]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _cell(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}" if percent else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument(
        "--limit", type=int, default=None, help="train on at most this many examples"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the pipeline's epochs")
    parser.add_argument(
        "--no-finetune-reference",
        dest="finetune_reference",
        action="store_false",
        help="skip the fine-tuned encoder reference (about 7 minutes per dataset)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny and fast: for CI")
    parser.add_argument("--one", nargs=2, metavar=("SYSTEM", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.limit, args.epochs = args.limit or 300, args.epochs or 2
    if args.one:
        one(args.one[0], args.one[1], args.limit, args.epochs)
        return
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is missing: the benchmark data lives there")
    systems = ["parlez", "tfidf+logreg"] + (["minilm fine-tune"] if args.finetune_reference else [])
    rows = []
    for dataset in args.datasets:
        for system in systems:
            command = [sys.executable, __file__, "--one", system, dataset]
            if args.limit:
                command += ["--limit", str(args.limit)]
            if args.epochs:
                command += ["--epochs", str(args.epochs)]
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
                check=False,
            )
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{system} on {dataset} failed")
            rows.append((dataset, system, json.loads(done.stdout.strip().splitlines()[-1])))
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="NLU benchmark (test split)" + (" — SMOKE, not a result" if args.smoke else "")
    )
    for column in (
        "dataset",
        "system",
        "intent acc %",
        "intent macro F1 %",
        "entity F1 %",
        "OOS recall %",
        "in-scope acc %",
        "train s",
        "p50 ms",
        "p99 ms",
        "peak RSS MB",
    ):
        table.add_column(column, justify="left" if column in ("dataset", "system") else "right")
    for dataset, system, r in rows:
        table.add_row(
            dataset,
            system,
            _cell(r["intent_accuracy"], True),
            _cell(r["intent_macro_f1"], True),
            _cell(r.get("entity_f1"), True),
            _cell(r.get("oos_recall"), True),
            _cell(r.get("inscope_accuracy"), True),
            _cell(r["train_seconds"]),
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            _cell(r["peak_rss_mb"]),
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
