"""Search finds the passage by its words or its meaning, and rebuilds only what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.knowledge.documents import read_kb
from parlez.knowledge.index import KnowledgeIndex, KnowledgeIndexError, open_index
from tests.conftest import write

FAQ = """
faq:
  - id: hours
    question: What are your opening hours?
    alternatives:
      - When are you open?
    answer: Monday to Friday, 9:00 to 18:00; Saturday 10:00 to 16:00.
  - id: parking
    question: Is there parking nearby?
    answer: Yes, the Maple Street car park is free for customers.
  - id: cancel
    question: How do I cancel an appointment?
    answer: Reply to your confirmation e-mail or call us at least 24 hours before.
  - id: gift
    question: Do you sell gift cards?
    answer: Yes, from 20 EUR, at the front desk.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    kb = tmp_path_factory.mktemp("kb")
    write(kb / "faq.yml", FAQ)
    write(
        kb / "prices.md",
        "# Prices\n\n## Haircuts\n\nA women's cut is 45 EUR, a men's cut 30 EUR.\n",
    )
    return KnowledgeIndex.build(read_kb(kb))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("when do you open on saturday", "hours"),  # words
        ("can I leave my car somewhere close", "parking"),  # meaning, no shared word
        ("I need to call off my booking", "cancel"),
        ("how much is a haircut for men", "prices-haircuts"),  # a page section
    ],
)
def test_the_right_passage_comes_first(index: KnowledgeIndex, query: str, expected: str) -> None:
    hits = index.search(query, k=3)
    assert hits[0].passage.id == expected
    assert hits[0].confidence > hits[-1].confidence or len(hits) == 1


def test_an_unrelated_question_has_a_low_confidence(index: KnowledgeIndex) -> None:
    related = index.search("what time do you open")[0].confidence
    unrelated = index.search("who won the football world cup in 1998")[0].confidence
    assert unrelated < 0.3 < related


def test_every_method_answers(index: KnowledgeIndex) -> None:
    for method in ("bm25", "dense", "hybrid"):
        assert index.search("gift card", method=method)[0].passage.id == "gift"
    with pytest.raises(KnowledgeIndexError, match="unknown search method"):
        index.search("x", method="magic")


def test_an_empty_question_or_knowledge_base_finds_nothing(index: KnowledgeIndex) -> None:
    assert index.search("   ") == []
    assert KnowledgeIndex.build([], embed=index.embed).search("hours") == []


def test_a_changed_document_is_the_only_one_embedded_again(
    tmp_path: Path, index: KnowledgeIndex
) -> None:
    kb, folder = tmp_path / "kb", tmp_path / "models" / "kb-index"
    write(kb / "faq.yml", FAQ)
    first = open_index(kb, folder, index.embed)
    assert first.embedded == len(first.rows) == 9  # 5 questions and 4 answers
    assert open_index(kb, folder, index.embed).embedded == 0  # unchanged: loaded as saved
    write(kb / "faq.yml", FAQ.replace("Do you sell gift cards?", "Can I buy a gift voucher?"))
    changed = open_index(kb, folder, index.embed)
    assert changed.embedded == 1
    assert changed.search("gift voucher")[0].passage.title == "Can I buy a gift voucher?"


def test_a_corrupt_index_is_rebuilt(tmp_path: Path, index: KnowledgeIndex) -> None:
    kb, folder = tmp_path / "kb", tmp_path / "kb-index"
    write(kb / "faq.yml", FAQ)
    open_index(kb, folder, index.embed)
    (folder / "passages.json").write_text("{ not json")
    assert len(open_index(kb, folder, index.embed).passages) == 4


def test_an_index_that_follows_its_documents_answers_from_an_edit_at_once(
    tmp_path: Path, index: KnowledgeIndex
) -> None:
    kb, folder = tmp_path / "kb", tmp_path / "kb-index"
    write(kb / "faq.yml", FAQ)
    live = open_index(kb, folder, index.embed).follow(kb, folder)
    assert live.search("gift card")[0].passage.text.startswith("Yes, from 20 EUR")
    write(kb / "faq.yml", FAQ.replace("Yes, from 20 EUR", "Yes, from 25 EUR"))
    assert live.search("gift card")[0].passage.text.startswith("Yes, from 25 EUR")
    # ...re-indexed once, embedding only the changed answer, and saved for the next start
    assert open_index(kb, folder, index.embed).embedded == 0
    write(kb / "wifi.md", "# Wi-Fi\n\nThe network is MapleGuest, no password.\n")
    assert live.search("what is the wifi network")[0].passage.id == "wifi-wi-fi"


def test_a_broken_edit_leaves_the_last_good_version_answering(
    tmp_path: Path, index: KnowledgeIndex, caplog: pytest.LogCaptureFixture
) -> None:
    kb = tmp_path / "kb"
    write(kb / "faq.yml", FAQ)
    live = KnowledgeIndex.build(read_kb(kb), index.embed).follow(kb)
    write(kb / "faq.yml", "faq:\n  - question: [unclosed\n")
    assert live.search("gift card")[0].passage.id == "gift"
    assert any("P502" in r.getMessage() and "faq.yml" in r.getMessage() for r in caplog.records)
    write(kb / "faq.yml", FAQ.replace("gift cards", "gift vouchers"))
    assert live.search("gift voucher")[0].passage.title == "Do you sell gift vouchers?"
