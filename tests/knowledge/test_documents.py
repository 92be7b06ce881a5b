"""Knowledge-base files read into passages: FAQ files in four formats, Markdown pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parlez.knowledge.documents import (
    KnowledgeFileError,
    export_faq,
    read_faq_file,
    read_kb,
    read_markdown,
    sample_files,
)
from tests.conftest import write

FAQ_YAML = """
faq:
  - id: hours
    question: What are your opening hours?
    alternatives:
      - When are you open?
    answer: Monday to Friday, 9:00 to 18:00.
  - question: Do you sell gift cards?
    answer: Yes, at the front desk.
    url: https://example.com/gift
"""


def test_a_yaml_faq_gives_one_passage_per_entry(tmp_path: Path) -> None:
    hours, gift = read_faq_file(write(tmp_path / "faq.yml", FAQ_YAML))
    assert hours.id == "hours" and hours.questions == [
        "What are your opening hours?",
        "When are you open?",
    ]
    assert gift.id == "do-you-sell-gift-cards"  # no id: one is made from the question
    assert gift.url == "https://example.com/gift" and gift.kind == "faq"


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl", ".yml"])
def test_faq_entries_survive_an_export_and_import(tmp_path: Path, suffix: str) -> None:
    passages = read_faq_file(write(tmp_path / "faq.yml", FAQ_YAML))
    out = tmp_path / f"export{suffix}"
    assert export_faq(passages, out) == 2
    again = read_faq_file(out)
    assert [(p.id, p.title, p.text, p.alternatives) for p in again] == [
        (p.id, p.title, p.text, p.alternatives) for p in passages
    ]


def test_markdown_pages_split_at_headings(tmp_path: Path) -> None:
    page = write(
        tmp_path / "prices.md",
        """
        # Prices

        All prices include tax.

        ## Haircuts

        Women's cut 45 EUR, men's cut 30 EUR.

        ## Colour

        From 60 EUR.
        """,
    )
    passages = read_markdown(page)
    assert [(p.title, p.text) for p in passages] == [
        ("Prices", "All prices include tax."),
        ("Prices > Haircuts", "Women's cut 45 EUR, men's cut 30 EUR."),
        ("Prices > Colour", "From 60 EUR."),
    ]
    assert all(p.kind == "page" for p in passages)


def test_long_sections_split_at_paragraphs(tmp_path: Path) -> None:
    paragraphs = "\n\n".join(" ".join(["word"] * 100) for _ in range(4))
    passages = read_markdown(write(tmp_path / "long.md", f"# Long\n\n{paragraphs}\n"))
    assert len(passages) == 4 and len({p.id for p in passages}) == 4


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yml", "faq:\n  - question: [unclosed\n", "invalid YAML"),
        ("bad.json", '[{"question": "q", "answer": }]', "invalid JSON"),
        ("bad.yml", "faq:\n  - question: only a question\n", "needs both"),
        (
            "bad.yml",
            "faq:\n  - {id: a, question: q, answer: a}\n  - {id: a, question: r, answer: b}\n",
            "used twice",
        ),
        ("bad.yml", "just: a mapping\n", "must be a list"),
    ],
)
def test_broken_faq_files_name_the_file_and_the_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(KnowledgeFileError, match=message) as error:
        read_faq_file(write(tmp_path / name, text))
    assert error.value.where is not None and name in str(error.value.where)


def test_questions_that_start_alike_get_ids_of_their_own(tmp_path: Path) -> None:
    start = "What happens to my order if the parcel service cannot deliver it"
    text = (
        f"faq:\n  - {{question: '{start} on Monday?', answer: a}}\n"
        f"  - {{question: '{start} on Tuesday?', answer: b}}\n"
    )
    first = [p.id for p in read_faq_file(write(tmp_path / "faq.yml", text))]
    assert len(set(first)) == 2 and all(len(i) <= 60 for i in first)
    assert first[0].startswith("what-happens-to-my-order-if-the-parcel-service")
    assert [p.id for p in read_faq_file(tmp_path / "faq.yml")] == first  # stable
    # ...whatever the order: an id depends on its own question only
    swapped = "faq:\n" + "".join(reversed(text.splitlines(keepends=True)[1:]))
    assert [p.id for p in read_faq_file(write(tmp_path / "faq.yml", swapped))] == first[::-1]
    # a short question is its slug, as before; the same question twice is numbered
    twice = "faq:\n  - {question: 'Parking?', answer: a}\n  - {question: parking, answer: b}\n"
    assert [p.id for p in read_faq_file(write(tmp_path / "faq.yml", twice))] == [
        "parking",
        "parking-2",
    ]


def test_the_knowledge_base_folder_reads_every_format(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write(kb / "faq.yml", FAQ_YAML)
    write(
        kb / "more.jsonl", json.dumps({"id": "parking", "question": "Parking?", "answer": "Yes."})
    )
    write(kb / "pages" / "about.md", "# About us\n\nA small studio.\n")
    assert sorted(p.id for p in read_kb(kb)) == [
        "about-about-us",
        "do-you-sell-gift-cards",
        "hours",
        "parking",
    ]
    assert read_kb(tmp_path / "missing") == []


def test_the_kb_folder_is_not_training_data(tmp_path: Path) -> None:
    from parlez.project import data_files

    write(tmp_path / "data" / "nlu.yml", 'version: "3.1"\nnlu: []\n')
    write(tmp_path / "data" / "kb" / "faq.yml", FAQ_YAML)
    assert data_files([tmp_path / "data"]) == [tmp_path / "data" / "nlu.yml"]


def test_sample_content_is_marked_and_comments_are_not_searched(tmp_path: Path) -> None:
    """The template's sample documents say so; a page's HTML comment is not a passage."""
    kb = tmp_path / "kb"
    write(kb / "faq.yml", "sample: true\n" + FAQ_YAML)
    write(kb / "own.yml", FAQ_YAML)
    write(kb / "pages" / "about.md", "<!-- sample -->\n# About us\n\nA small studio.\n")
    assert [p.name for p in sample_files(kb)] == ["faq.yml", "about.md"]
    [page] = read_markdown(kb / "pages" / "about.md")
    assert page.title == "About us" and "sample" not in page.text
