"""`parlez kb search | import | export | index` on a project's data/kb/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parlez.cli.main import main
from tests.conftest import write

FAQ = """
faq:
  - id: parking
    question: Is there parking nearby?
    answer: Yes, the Maple Street car park.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "data" / "kb" / "faq.yml", FAQ)
    return tmp_path


def test_index_then_search(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    assert main(["kb", "index", "--project", str(project)]) == 0
    assert "1 passages indexed" in capsys.readouterr().out
    assert (project / "models" / "kb-index" / "vectors.safetensors").is_file()
    assert main(["kb", "search", "where can I leave my car", "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "Is there parking nearby?" in out and "faq.yml#parking" in out


def import_csv(project: Path, folder: Path, rows: str) -> bool:
    """`parlez kb import` of a CSV file holding `rows`; whether it succeeded."""
    incoming = folder / "more.csv"
    incoming.write_text(rows, encoding="utf-8")
    return main(["kb", "import", str(incoming), "--project", str(project)]) == 0


def test_import_adds_and_updates_entries(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_csv(
        project,
        tmp_path,
        "id,question,answer\nparking,Where do I park?,Opposite the studio.\n"
        "wifi,Do you have wifi?,Yes.\n",
    )
    assert "1 new, 1 updated" in capsys.readouterr().out
    out = tmp_path / "all.json"
    assert main(["kb", "export", str(out), "--project", str(project)]) == 0
    entries = {e["id"]: e for e in json.loads(out.read_text(encoding="utf-8"))}
    assert entries["parking"]["answer"] == "Opposite the studio."
    assert entries["wifi"]["question"] == "Do you have wifi?"


OURS = """\
# Maple Street Studio's answers: keep them short.
faq:
  - id: parking
    question: Is there parking nearby?
    # the car park changed its prices in March
    answer: 'Yes, the Maple Street car park.'

  - id: gift-cards
    question: Do you sell gift cards?
    answer: "Yes, from 20 €."
"""


def test_import_into_a_businesss_file_keeps_its_comments_quotes_and_order(
    project: Path, tmp_path: Path
) -> None:
    """An imported entry with an id the file has is rewritten in place, the new ones go at
    the end; the business's comments, quoting and blank lines stay as they were."""
    faq = write(project / "data" / "kb" / "faq.yml", OURS)
    assert import_csv(
        project,
        tmp_path,
        "id,question,answer,action\ngift-cards,Do you sell gift cards?,Yes: 20 to 200 €.,\n"
        ",What are your prices?,See our price list.,action_tell_price\n",
    )
    assert faq.read_text(encoding="utf-8") == OURS.replace(
        '"Yes, from 20 €."', "'Yes: 20 to 200 €.'"
    ) + (
        "\n  - id: what-are-your-prices\n    question: What are your prices?\n"
        "    answer: See our price list.\n    action: action_tell_price\n"
    )


def test_import_with_replace_drops_the_entries_that_were_there(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A business bringing its own FAQ into the template replaces the template's entries."""
    incoming = tmp_path / "ours.jsonl"
    incoming.write_text('{"question": "Do you have wifi?", "answer": "Yes."}\n', encoding="utf-8")
    assert main(["kb", "import", str(incoming), "--replace", "--project", str(project)]) == 0
    assert "its 1 entries replaced" in capsys.readouterr().out
    out = tmp_path / "all.json"
    assert main(["kb", "export", str(out), "--project", str(project)]) == 0
    assert [e["question"] for e in json.loads(out.read_text(encoding="utf-8"))] == [
        "Do you have wifi?"
    ]


SAMPLE_FAQ = """
# the template's own entries
sample: true
faq:
  - id: opening-hours
    question: What are your opening hours?
    answer: Monday to Friday 9:00-18:00.
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A project as the assistant template ships: a sample FAQ and a sample page."""
    root = tmp_path / "template"
    write(root / "data" / "kb" / "faq.yml", SAMPLE_FAQ)
    write(root / "data" / "kb" / "pages" / "about.md", "<!-- sample -->\n# About us\n\nA studio.\n")
    write(root / "data" / "kb" / "pages" / "ours.md", "# Parking\n\nBehind the shop.\n")
    return root


def imported_ids(root: Path, tmp_path: Path) -> list[str]:
    out = tmp_path / "all.json"
    assert main(["kb", "export", str(out), "--project", str(root)]) == 0
    return [e["id"] for e in json.loads(out.read_text(encoding="utf-8"))]


def test_the_first_import_replaces_the_templates_sample_content(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bicycle shop importing its FAQ into the template must not answer with the studio's
    opening hours: the sample FAQ entries and the sample page go, the business's page stays."""
    incoming = tmp_path / "shop.jsonl"
    incoming.write_text('{"question": "When are you open?", "answer": "7 days."}\n', "utf-8")
    assert main(["kb", "import", str(incoming), "--project", str(template)]) == 0
    out = capsys.readouterr().out
    assert "sample content was replaced" in out and "--keep-sample" in out
    assert imported_ids(template, tmp_path) == ["when-are-you-open"]
    assert not (template / "data" / "kb" / "pages" / "about.md").exists()
    assert (template / "data" / "kb" / "pages" / "ours.md").is_file()
    # The file is now the business's own: a second import adds to it.
    more = tmp_path / "more.jsonl"
    more.write_text('{"question": "Do you hire bikes?", "answer": "Yes."}\n', "utf-8")
    assert main(["kb", "import", str(more), "--project", str(template)]) == 0
    assert "1 new, 0 updated" in capsys.readouterr().out
    assert imported_ids(template, tmp_path) == ["when-are-you-open", "do-you-hire-bikes"]


def test_keep_sample_adds_to_the_templates_entries(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incoming = tmp_path / "shop.jsonl"
    incoming.write_text('{"question": "When are you open?", "answer": "7 days."}\n', "utf-8")
    args = ["kb", "import", str(incoming), "--keep-sample", "--project", str(template)]
    assert main(args) == 0
    assert "1 new, 0 updated" in capsys.readouterr().out
    assert imported_ids(template, tmp_path) == ["opening-hours", "when-are-you-open"]
    assert (template / "data" / "kb" / "pages" / "about.md").is_file()


def test_a_broken_import_is_one_clear_error(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"question": "no answer"}]', encoding="utf-8")
    assert main(["kb", "import", str(bad), "--project", str(project)]) == 1
    err = capsys.readouterr().err
    assert "P500" in err and "bad.json" in err and "needs both" in err
