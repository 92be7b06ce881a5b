from __future__ import annotations

import pytest

from parlez.exceptions import EntityAnnotationError
from parlez.training_data.example import Entity
from parlez.training_data.markup import annotate, parse


def test_plain_annotation_gives_the_entity_with_its_text_as_value() -> None:
    text, entities = parse("book a table in [Paris](city)")
    assert text == "book a table in Paris"
    assert entities == [Entity(16, 21, "Paris", "city")]


def test_annotation_with_a_value_maps_the_text_to_that_value() -> None:
    text, entities = parse("fly to [NYC](city:New York)")
    assert text == "fly to NYC"
    assert entities == [Entity(7, 10, "New York", "city")]


def test_json_annotation_carries_role_group_and_value() -> None:
    text, entities = parse(
        'from [Berlin]{"entity": "city", "role": "departure", "group": "1", "value": "BER"}'
    )
    assert text == "from Berlin"
    assert entities == [Entity(5, 11, "BER", "city", role="departure", group="1")]


def test_a_list_of_json_annotations_gives_several_entities_on_one_span() -> None:
    _, entities = parse('[pizza][{"entity": "food"}, {"entity": "dish", "role": "main"}]')
    assert [(e.entity, e.role) for e in entities] == [("food", None), ("dish", "main")]


@pytest.mark.parametrize(
    "broken", ["book a [table(location)", "book a table](location)", '[table]{"entity": "x"']
)
def test_an_unclosed_annotation_is_an_error(broken: str) -> None:
    with pytest.raises(EntityAnnotationError, match=r"not closed|not valid JSON"):
        parse(broken)


def test_an_annotation_without_an_entity_key_is_an_error() -> None:
    with pytest.raises(EntityAnnotationError, match="no 'entity' key"):
        parse('[x]{"role": "from"}')


def test_brackets_that_are_not_annotations_are_kept() -> None:
    assert parse("press [1] or (2)") == ("press [1] or (2)", [])


def test_annotate_writes_back_what_parse_reads() -> None:
    original = (
        'from [Berlin]{"entity": "city", "role": "from"} to [NYC](city:New York) with [Ann](person)'
    )
    text, entities = parse(original)
    assert parse(annotate(text, entities)) == (text, entities)
