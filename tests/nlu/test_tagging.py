"""Entity annotations as BILOU tags and back: every gold sequence the taggers learn from is
well formed, so a CRF that only allows well-formed sequences can always score it."""

from __future__ import annotations

from parlez.nlu.message import Token
from parlez.nlu.tagging import spans_from, tags_for, truncated
from parlez.training_data.example import Entity


def _tokens(text: str) -> list[Token]:
    tokens, start = [], 0
    for word in text.split(" "):
        tokens.append(Token(word, start, start + len(word)))
        start += len(word) + 1
    return tokens


def test_spans_become_bilou_tags_and_back() -> None:
    text = "fly from new york city to rome"
    entities = [Entity(9, 22, "new york city", "city"), Entity(26, 30, "rome", "city")]
    tags = tags_for(_tokens(text), entities, "entity", bilou=True)
    assert tags == ["O", "O", "B-city", "I-city", "L-city", "O", "U-city"]
    assert spans_from(tags) == [(2, 4, "city"), (6, 6, "city")]


def test_overlapping_annotations_keep_the_first_so_tags_stay_well_formed() -> None:
    text = "new york city"
    entities = [Entity(0, 13, "new york city", "city"), Entity(4, 8, "york", "region")]
    assert tags_for(_tokens(text), entities, "entity", bilou=True) == [
        "B-city",
        "I-city",
        "L-city",
    ]


def test_a_span_cut_by_the_token_limit_is_closed() -> None:
    assert truncated(["O", "B-city", "I-city", "L-city"], 2) == ["O", "U-city"]
    assert truncated(["B-city", "I-city", "I-city", "L-city"], 3) == ["B-city", "I-city", "L-city"]
    assert truncated(["O", "U-city"], 5) == ["O", "U-city"]
