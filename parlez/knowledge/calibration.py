"""How sure the knowledge base must be before it answers, learned from the knowledge base itself.

One fixed bar does not carry from one FAQ to another: in a knowledge base of twenty unlike
entries a wrong passage scores 0.3, while in a shop's FAQ "How long does standard delivery
take?" and "Do you offer express delivery?" are close. So each index learns its own bar when
it is built, from its entries' questions searched against the *other* entries: whatever wins
is a wrong answer, and its score is what a question about something the knowledge base does
not hold gets when it is as close to the knowledge base as its own entries are to each
other. Customers' questions about other things are further away than that (measured on two
FAQs: their median score is 0.36-0.40, while the entries' median is 0.53-0.59), so the bar
is the score a quarter of these examples reach (`MISSING_QUANTILE`), within
`[FLOOR, CEILING]`. Above the bar the wrong answers left are mostly close calls, which the
margin rule turns into a question: which of the two entries did the customer mean?

Only each entry's own question is searched, not its alternatives: alternatives written in
other languages sit close to each other across entries in the English encoder's space.

Measured (bench/README.md, `bench/kb.py`): the bar comes out at 0.48 on StackFAQ, 0.50 on a
bicycle shop's FAQ and 0.47 on a dental practice's (both added to the assistant's own), where
the best fixed bar is 0.50 on all three; the median (0.52-0.59) declined a fifth more
questions for 0.7 points fewer wrong answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: the share of the missing-entry examples that reach the bar
MISSING_QUANTILE = 0.25
#: the bar is never lower than this (the fixed bar the answer action had before)
FLOOR = 0.45
#: nor higher: a knowledge base of near-duplicates must still answer its own questions
CEILING = 0.65
#: the most questions searched (each is one pass over the rows)
MAX_EXAMPLES = 2000
#: when the two best entries score within this of each other, the customer is asked which
#: one they meant (measured on three FAQ sets: a wrong first entry is within 0.04 of the
#: second in half the cases, a right one leads by 0.085 or more in three quarters of them;
#: end to end on two FAQs, 0.10 instead of 0.08 turned a further 1-3 points of wrong
#: answers into questions, for 7 % more questions asked)
DEFAULT_MARGIN = 0.1


@dataclass(frozen=True)
class Calibration:
    min_confidence: float
    margin: float = DEFAULT_MARGIN
    #: how many of the knowledge base's questions the bar was learnt from
    examples: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Calibration:
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


def missing_entry_scores(
    vectors: np.ndarray, row_passage: np.ndarray, asking: np.ndarray
) -> np.ndarray:
    """For each entry's question (the first row where `asking` is true), the best score of
    the other entries' rows."""
    firsts = [
        row
        for row in np.flatnonzero(asking)
        if row == 0 or row_passage[row - 1] != row_passage[row]
    ]
    if len(firsts) > MAX_EXAMPLES:  # a big knowledge base: a fixed sample of its questions
        firsts = list(np.random.default_rng(0).choice(firsts, MAX_EXAMPLES, replace=False))
    scores = []
    for row in firsts:
        others = row_passage != row_passage[row]
        if others.any():
            scores.append(float((vectors[others] @ vectors[row]).max()))
    return np.asarray(scores)


def calibrate(
    vectors: np.ndarray,
    row_passage: np.ndarray,
    asking: np.ndarray,
    floor: float = FLOOR,
    ceiling: float = CEILING,
) -> Calibration:
    """The bar of the knowledge base whose rows are `vectors` (see the module's docstring)."""
    scores = missing_entry_scores(vectors, row_passage, asking)
    if not len(scores):
        return Calibration(floor)
    bar = min(max(float(np.quantile(scores, MISSING_QUANTILE)), floor), ceiling)
    return Calibration(round(bar, 2), examples=len(scores))
