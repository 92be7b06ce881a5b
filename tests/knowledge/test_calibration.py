"""Each knowledge base learns its own bar from its entries' questions, and two close entries
are offered as a choice instead of one of them being given."""

from __future__ import annotations

import numpy as np
import pytest

from parlez.knowledge.answer import KnowledgeAnswerer
from parlez.knowledge.calibration import CEILING, FLOOR, calibrate, missing_entry_scores
from parlez.knowledge.documents import read_kb
from parlez.knowledge.index import KnowledgeIndex
from tests.conftest import write

pytestmark = pytest.mark.anyio


def unit(*rows: list[float]) -> np.ndarray:
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_each_entrys_question_is_scored_against_the_other_entries_only() -> None:
    # entry 0: a question and its alternative (the same direction), entry 1 elsewhere
    vectors = unit([1, 0], [1, 0], [0.6, 0.8])
    scores = missing_entry_scores(vectors, np.array([0, 0, 1]), np.array([True, True, True]))
    # one example per entry (its first question), its own alternative never counts
    assert scores.round(2).tolist() == [0.6, 0.6]


def test_the_bar_is_what_a_quarter_of_the_missing_entry_questions_reach() -> None:
    # five entries 55 degrees apart (cosine 0.57), a sixth 40 degrees from the first (0.77)
    angles = np.radians([0, 55, 110, 165, 220, 320])
    vectors = unit(*[[np.cos(a), np.sin(a), 0.0] for a in angles])
    scores = missing_entry_scores(vectors, np.arange(6), np.ones(6, dtype=bool))
    calibration = calibrate(vectors, np.arange(6), np.ones(6, dtype=bool))
    assert calibration.min_confidence == round(float(np.quantile(scores, 0.25)), 2)
    assert FLOOR < calibration.min_confidence < CEILING
    assert calibration.examples == 6


def test_unlike_entries_keep_the_floor_and_near_duplicates_stop_at_the_ceiling() -> None:
    apart = calibrate(unit([1, 0, 0], [0, 1, 0], [0, 0, 1]), np.arange(3), np.ones(3, bool))
    assert apart.min_confidence == FLOOR
    close = calibrate(unit([1, 0.01], [1, 0.02], [1, 0.03]), np.arange(3), np.ones(3, bool))
    assert close.min_confidence == CEILING


def test_answers_are_not_questions_so_they_are_never_examples() -> None:
    vectors = unit([1, 0], [0.9, 0.1], [0, 1])
    asking = np.array([True, False, True])  # row 1 is entry 0's answer
    scores = missing_entry_scores(vectors, np.array([0, 0, 1]), asking)
    assert len(scores) == 2


CLOSE_FAQ = """
faq:
  - id: delivery-standard
    question: How long does standard delivery take?
    answer: Standard delivery takes 3 to 5 working days.
  - id: delivery-express
    question: How long does express delivery take?
    answer: Express delivery arrives the next working day.
  - id: gift
    question: Do you sell gift cards?
    answer: Yes, from 10 to 500, valid for two years.
  - id: parking
    question: Is there parking near the shop?
    answer: Two free spaces in front of the shop.
"""


@pytest.fixture(scope="module")
def close_index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    kb = tmp_path_factory.mktemp("kb")
    write(kb / "faq.yml", CLOSE_FAQ)
    return KnowledgeIndex.build(read_kb(kb))


def test_the_calibration_is_saved_with_the_index(close_index: KnowledgeIndex, tmp_path) -> None:
    close_index.save(tmp_path)
    assert KnowledgeIndex.load(tmp_path).calibration == close_index.calibration


async def test_two_entries_that_fit_as_well_are_offered_as_a_choice(
    close_index: KnowledgeIndex,
) -> None:
    answer = await KnowledgeAnswerer(close_index).answer("delivery time?")
    assert not answer.found and answer.by == "choice"
    assert {p.id for p in answer.choices} == {"delivery-standard", "delivery-express"}


async def test_a_clear_winner_is_answered_without_a_choice(close_index: KnowledgeIndex) -> None:
    answer = await KnowledgeAnswerer(close_index).answer("can I buy a gift voucher?")
    assert answer.found and answer.sources[0]["id"] == "gift" and not answer.choices


def test_the_entry_the_customer_chose_is_answered_as_written(close_index: KnowledgeIndex) -> None:
    answer = KnowledgeAnswerer(close_index).entry("delivery-express")
    assert answer.found and answer.text == "Express delivery arrives the next working day."
    assert not KnowledgeAnswerer(close_index).entry("no-such-entry").found


async def test_a_close_second_just_under_the_bar_is_offered_not_passed_over(
    close_index: KnowledgeIndex,
) -> None:
    """With the bar at 0.6, "how fast do you ship" finds standard delivery at 0.65 and express
    at 0.59: the second is under the bar but as close as the first, so the customer is asked,
    instead of being told the standard delivery time as if it were sure."""
    answerer = KnowledgeAnswerer(close_index, min_confidence=0.6)
    hits, runner_up = answerer.search("how fast do you ship")
    assert [h.passage.id for h in hits] == ["delivery-standard"]
    assert runner_up is not None and runner_up.passage.id == "delivery-express"
    answer = await answerer.answer("how fast do you ship")
    assert answer.by == "choice"
    assert [p.id for p in answer.choices] == ["delivery-standard", "delivery-express"]
    # Far under the bar, a second passage is never offered.
    assert KnowledgeAnswerer(close_index, min_confidence=0.8).search("how fast do you ship") == (
        [],
        None,
    )


async def test_entries_just_under_the_bar_are_suggested_never_answered(
    close_index: KnowledgeIndex,
) -> None:
    """With the bar at 0.68, "how fast do you ship" finds standard delivery at 0.65 and
    express at 0.59: neither is sure enough to be given, both are close enough to be
    suggested, best first. Far under the bar nothing is suggested."""
    answer = await KnowledgeAnswerer(close_index, min_confidence=0.68).answer(
        "how fast do you ship"
    )
    assert not answer.found and answer.by == "suggestions" and answer.text == ""
    assert [p.id for p in answer.choices] == ["delivery-standard", "delivery-express"]
    nothing = await KnowledgeAnswerer(close_index, min_confidence=0.8).answer(
        "how fast do you ship"
    )
    assert nothing.by == "none" and nothing.choices == []


async def test_nothing_is_suggested_across_languages(close_index: KnowledgeIndex) -> None:
    """The packaged encoder is English: near the bar for another language, its scores are
    noise (wrong passages reach 0.5-0.7), so a foreign question under it gets no
    suggestions."""
    answerer = KnowledgeAnswerer(close_index, other_language_min_confidence=0.68)
    answer = await answerer.answer("how fast do you ship", language="fr")
    assert answer.by == "none" and answer.choices == []
