from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parlez.autoconfig import HEADERS
from parlez.cli.main import main
from parlez.model import latest_model, opened, read_metadata
from tests.conftest import nlu_file, write

CONFIG = """
assistant_id: shop
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 30
    random_seed: 3
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
policies:
  - name: RulePolicy
"""
NLU = nlu_file("""
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey
- intent: order
  examples: |
    - I want a [pizza](food)
    - one [burger](food) please
    - can I get [fries](food)
    - order a [salad](food)
- intent: bye
  examples: |
    - bye
    - see you
    - goodbye then
""")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(
        tmp_path / "domain.yml", 'version: "3.1"\nintents: [greet, order, bye]\nentities: [food]\n'
    )
    write(tmp_path / "config.yml", CONFIG)
    write(tmp_path / "data" / "nlu.yml", NLU)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_train_nlu_writes_an_archive_with_metadata_and_the_pipeline(project: Path) -> None:
    assert main(["train", "nlu"]) == 0
    archive = latest_model(project / "models")
    assert (
        archive is not None
        and archive.name.startswith("nlu-")
        and archive.name.endswith("-shop.tar.gz")
    )
    with opened(archive) as folder:
        metadata = read_metadata(folder)
        assert metadata.assistant_id == "shop" and "nlu" in metadata.fingerprints
        assert metadata.config["pipeline"][3]["name"] == "DIETClassifier"
        manifest = json.loads((folder / "nlu" / "pipeline.json").read_text())
        assert [c["name"] for c in manifest["components"]][-1] == "FallbackClassifier"
        assert (folder / "nlu" / "03_DIETClassifier" / "model.safetensors").is_file()


def test_the_default_pipeline_a_training_chose_is_written_into_the_config(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "config.yml", "assistant_id: shop\nlanguage: en\npolicies:\n")
    assert main(["train", "nlu"]) == 0
    assert "The configuration for pipeline was chosen automatically" in capsys.readouterr().out
    written = (project / "config.yml").read_text()
    assert written.startswith(
        f"assistant_id: shop\nlanguage: en\npolicies:\npipeline:\n{HEADERS['pipeline'][0]}"
    )
    assert HEADERS["policies"][0] not in written  # `train nlu` trained no policies
    assert main(["train", "nlu"]) == 0
    assert (project / "config.yml").read_text() == written


def test_training_again_without_changes_reuses_the_nlu_part(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "nlu", "--fixed-model-name", "first"]) == 0
    assert main(["train", "nlu", "--fixed-model-name", "second"]) == 0
    assert "unchanged" in capsys.readouterr().out
    write(project / "data" / "nlu.yml", NLU + "    - farewell\n")
    assert main(["train", "nlu", "--fixed-model-name", "third"]) == 0
    assert "unchanged" not in capsys.readouterr().out
    assert sorted(p.name for p in (project / "models").iterdir()) == [
        "first.tar.gz",
        "second.tar.gz",
        "third.tar.gz",
    ]


def test_a_new_version_of_parlez_retrains_what_an_old_one_trained(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["train", "nlu", "--fixed-model-name", "first"]) == 0
    monkeypatch.setattr("parlez.training.__version__", "99.0.0")
    assert main(["train", "nlu", "--fixed-model-name", "second"]) == 0
    assert "unchanged" not in capsys.readouterr().out


def test_test_nlu_writes_rasa_s_report_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "nlu"]) == 0
    capsys.readouterr()
    assert main(["test", "nlu", "--successes"]) == 0
    # Without test data the training data is scored, as in Rasa, and that is said.
    said = " ".join(capsys.readouterr().out.split())
    assert "scoring the training data in data/" in said and "--cross-validation" in said
    results = project / "results"
    names = sorted(p.name for p in results.iterdir())
    assert names == [
        "DIETClassifier_errors.json",
        "DIETClassifier_report.json",
        "intent_confusion_matrix.png",
        "intent_errors.json",
        "intent_histogram.png",
        "intent_report.json",
        "intent_successes.json",
    ]
    report = json.loads((results / "intent_report.json").read_text())
    assert report["accuracy"] == 1.0
    assert set(report["greet"]) == {"precision", "recall", "f1-score", "support", "confused_with"}
    entities = json.loads((results / "DIETClassifier_report.json").read_text())
    assert entities["food"]["support"] == 4 and "micro avg" in entities
    assert (results / "intent_confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_cross_validation_reports_every_example_once(project: Path) -> None:
    argv = ["test", "nlu", "--cross-validation", "--folds", "3", "--out", "cv", "--no-plot"]
    assert main(argv) == 0
    report = json.loads((project / "cv" / "intent_report.json").read_text())
    assert report["weighted avg"]["support"] == 11
    assert not list((project / "cv").glob("*.png"))  # --no-plot


def test_shell_nlu_prints_a_parse_per_line(project: Path) -> None:
    assert main(["train", "nlu"]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "parlez", "shell", "nlu"],
        input="I want a pizza\n\n",
        capture_output=True,
        text=True,
        cwd=project,
        check=True,
    )
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["intent"]["name"] == "order"
    assert first["entities"][0]["value"] == "pizza"
    assert second["text"] == "" and second["intent"]["name"] == "nlu_fallback"


def test_testing_without_a_model_says_how_to_get_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", "nlu"]) == 1
    assert "parlez train nlu" in capsys.readouterr().err


def test_a_model_archive_that_is_not_one_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "models").mkdir()
    (project / "models" / "broken.tar.gz").write_bytes(b"not a tar file")
    assert main(["test", "nlu"]) == 1
    assert "not a readable model archive" in capsys.readouterr().err


def test_percentages_compare_configs_at_several_training_sizes(project: Path) -> None:
    write(
        project / "linear.yml",
        "assistant_id: a\npipeline:\n  - name: WhitespaceTokenizer\n  - name: CountVectorsFeaturizer\n  - name: LogisticRegressionClassifier\n",
    )
    write(
        project / "keywords.yml", "assistant_id: a\npipeline:\n  - name: KeywordIntentClassifier\n"
    )
    assert (
        main(
            [
                "test",
                "nlu",
                "--config",
                "linear.yml",
                "keywords.yml",
                "--percentages",
                "0",
                "50",
                "--runs",
                "2",
                "--out",
                "cmp",
            ]
        )
        == 0
    )
    report = json.loads((project / "cmp" / "nlu_model_comparison_results.json").read_text())
    assert report["percentages_excluded"] == [0, 50]
    assert set(report["weighted_f1"]) == {"linear", "keywords"}
    assert [len(runs) for runs in report["weighted_f1"].values()] == [2, 2]
    assert report["training_examples"][0] > report["training_examples"][1]
    assert (project / "cmp" / "nlu_model_comparison_graph.pdf").read_bytes()[:4] == b"%PDF"
