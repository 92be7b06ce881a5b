"""A question in French, German or Spanish finds the entry written in English through the
multilingual index (Google's multilingual Universal Sentence Encoder, packaged), judged by
its own calibrated bar; the English index keeps the knowledge base's own language."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parlez.knowledge import project_multilingual_index
from parlez.knowledge.answer import KnowledgeAnswerer
from parlez.knowledge.documents import read_kb
from parlez.knowledge.index import KnowledgeIndex, index_knowledge
from parlez.knowledge.multilingual import MULTILINGUAL_INDEX_FOLDER, MultilingualEmbedder
from tests.conftest import write
from tests.knowledge.test_index import FAQ

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeIndex, KnowledgeIndex]:
    kb = tmp_path_factory.mktemp("kb")
    write(kb / "faq.yml", FAQ)  # English only
    passages = read_kb(kb)
    return KnowledgeIndex.build(passages), KnowledgeIndex.build(
        passages, embed=MultilingualEmbedder()
    )


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("y a-t-il un parking près du salon ?", "fr", "parking"),
        ("wie kann ich meinen Termin absagen", "de", "cancel"),
        ("venden tarjetas regalo?", "es", "gift"),
        ("vous ouvrez à quelle heure le samedi", "fr", "hours"),
    ],
)
async def test_a_question_in_another_language_finds_the_english_entry(
    indexes: tuple[KnowledgeIndex, KnowledgeIndex], question: str, language: str, expected: str
) -> None:
    english, multilingual = indexes
    answer = await KnowledgeAnswerer(english, multilingual=multilingual).answer(
        question, language=language
    )
    assert answer.found and answer.sources[0]["id"] == expected


async def test_without_the_multilingual_index_such_a_question_meets_a_higher_bar(
    indexes: tuple[KnowledgeIndex, KnowledgeIndex],
) -> None:
    english, _ = indexes
    answer = await KnowledgeAnswerer(english).answer(
        "wie kann ich meinen Termin absagen", language="de"
    )
    assert not answer.found and not answer.choices


async def test_an_english_question_is_searched_in_the_english_index(
    indexes: tuple[KnowledgeIndex, KnowledgeIndex],
) -> None:
    english, multilingual = indexes
    answerer = KnowledgeAnswerer(english, multilingual=multilingual)
    answer = await answerer.answer("can I leave my car somewhere close", language="en")
    assert answer.found and answer.sources[0]["id"] == "parking"
    assert answerer._searched(False).index is english


def test_the_multilingual_index_matches_no_entry_on_words_every_sentence_has(
    tmp_path: Path,
) -> None:
    # In the English index "ist" and "der" are words like any other: a German question that
    # has them matched every German alternative that has them ("Wo ist der Salon?").
    write(
        tmp_path / "faq.yml",
        "faq:\n"
        "  - question: Where are you?\n    alternatives: ['Wo ist der Salon?']\n"
        "    answer: 14 Maple Street.\n"
        "  - question: Is the studio step-free?\n    alternatives: ['Ist die Tür breit?']\n"
        "    answer: Yes.\n",
    )
    passages = read_kb(tmp_path)
    english = KnowledgeIndex.build(passages)
    multilingual = KnowledgeIndex.build(passages, embed=MultilingualEmbedder())
    assert english.bm25_scores("ist der Eingang barrierefrei").max() > 0
    assert multilingual.bm25_scores("ist der Eingang barrierefrei").max() == 0
    assert multilingual.bm25_scores("gibt es einen Salon").max() > 0  # "Salon" still counts


def test_the_multilingual_index_searches_the_answers_written_in_other_languages(
    tmp_path: Path,
) -> None:
    # A customer asks in the words of the answer the business wrote in their language
    # ("Stufen", "Eingang"), not of its English question: that answer is a row of the
    # multilingual index. The English encoder reads no German: its index keeps English rows.
    write(
        tmp_path / "faq.yml",
        "faq:\n"
        "  - id: access\n    question: Is the studio wheelchair accessible?\n"
        "    answer: Yes, the entrance is step-free.\n"
        "    answers: {de: 'Ja, der Eingang ist stufenlos, ohne Stufen.'}\n"
        "  - id: hours\n    question: When are you open?\n    answer: From 9 to 6.\n",
    )
    passages = read_kb(tmp_path)
    german = "Ja, der Eingang ist stufenlos, ohne Stufen."
    assert german not in KnowledgeIndex.build(passages).rows
    multilingual = KnowledgeIndex.build(passages, embed=MultilingualEmbedder())
    assert german in multilingual.rows
    best = multilingual.search("gibt es Stufen am Eingang?", k=1)[0]
    assert best.passage.id == "access"
    assert (
        multilingual.rows[int(np.argmax(multilingual.row_scores("gibt es Stufen am Eingang?")[1]))]
        == german
    )


def test_the_english_index_keeps_words_that_are_stop_words_in_other_languages(
    tmp_path: Path,
) -> None:
    write(tmp_path / "faq.yml", "faq:\n  - question: Do you sell hats?\n    answer: Yes.\n")
    index = KnowledgeIndex.build(read_kb(tmp_path))  # German has "hat" among its stop words
    assert index.bm25_scores("hat").max() > 0


def test_training_builds_the_multilingual_index_beside_the_english_one(tmp_path: Path) -> None:
    write(tmp_path / "data" / "kb" / "faq.yml", FAQ)
    assert index_knowledge(tmp_path, tmp_path / "models") is not None
    assert (tmp_path / "models" / MULTILINGUAL_INDEX_FOLDER / "vectors.safetensors").is_file()
    opened = project_multilingual_index(tmp_path)
    assert opened is not None and opened.vectors.shape[1] == 512


def test_the_loaded_encoder_is_kept_and_the_next_process_reads_it_with_the_same_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEZ_CACHE_DIR", str(tmp_path))
    texts = ["où se trouve le salon ?", "wo kann ich parken"]
    first = MultilingualEmbedder()(texts)
    (kept,) = (tmp_path / "encoders").glob("use-multilingual-*.mapped")
    second = MultilingualEmbedder()(texts)
    assert np.array_equal(first, second)

    kept.write_bytes(b"not a pickle")  # cut short, or made by another version
    assert np.array_equal(MultilingualEmbedder()(texts), first)
    assert kept.stat().st_size > 1_000_000  # made again
