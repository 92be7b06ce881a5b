"""One value of a person's YAML file set in place: its line or block changes, the rest of the
file (comments beside the value included) stays byte for byte."""

from __future__ import annotations

import datetime as dt

import pytest

from parlez.io.yaml_edit import YamlEditError, append_item, remove_item, remove_key, set_value

TEXT = """\
# The studio.
name: Maple Street Studio
hours:
  monday: ["09:00-18:00"]
  saturday: ["10:00-16:00"]   # shorter on Saturdays
closed_dates:
  - 2026-12-25

booking:
  slot_minutes: 15          # on the quarter hour
services:
  - name: haircut
    price: 35
"""


@pytest.mark.parametrize(
    ("path", "value", "before", "after"),
    [
        (["name"], "Maple: hair", "name: Maple Street Studio\n", "name: 'Maple: hair'\n"),
        (
            ["hours", "saturday"],
            ["10:00-17:00"],
            '  saturday: ["10:00-16:00"]   # shorter on Saturdays\n',
            '  saturday: ["10:00-17:00"]   # shorter on Saturdays\n',
        ),
        (
            ["booking", "slot_minutes"],
            30,
            "  slot_minutes: 15          # on the quarter hour\n",
            "  slot_minutes: 30          # on the quarter hour\n",
        ),
        (["services", 0, "price"], 38.5, "    price: 35\n", "    price: 38.5\n"),
        (
            ["closed_dates"],
            [dt.date(2026, 12, 25), dt.date(2027, 1, 1)],
            "  - 2026-12-25\n",
            "  - 2026-12-25\n  - 2027-01-01\n",
        ),
        (
            ["hours", "sunday"],  # a new key: written like its neighbours
            ["11:00-15:00"],
            '  saturday: ["10:00-16:00"]   # shorter on Saturdays\n',
            '  saturday: ["10:00-16:00"]   # shorter on Saturdays\n  sunday: ["11:00-15:00"]\n',
        ),
    ],
)
def test_the_value_changes_and_nothing_else(
    path: list[str | int], value: object, before: str, after: str
) -> None:
    assert before in TEXT
    assert set_value(TEXT, path, value) == TEXT.replace(before, after)


def test_a_path_that_is_not_there_is_a_clear_error() -> None:
    with pytest.raises(YamlEditError, match="there is no 'nope'"):
        set_value(TEXT, ["nope", "x"], 1)
    with pytest.raises(YamlEditError, match="not valid YAML"):
        set_value("a: [unclosed\n", ["a"], 1, "business.yml")


CATALOGUE = """\
services:
  - name: haircut   # the most booked
    price: 35

  # seasonal
  - name: colouring
    price: 60
    names: {fr: coloration}
products: []
"""


def test_an_item_is_appended_indented_as_its_list_and_a_missing_list_is_made() -> None:
    added = append_item(CATALOGUE, ["services"], {"name": "perm", "duration": 90})
    assert added == CATALOGUE.replace(
        "    names: {fr: coloration}\n",
        "    names: {fr: coloration}\n  - name: perm\n    duration: 90\n",
    )
    # an empty list in brackets, or none at all, becomes a block list
    assert append_item(CATALOGUE, ["products"], {"name": "wax", "price": 12}).endswith(
        "products:\n  - name: wax\n    price: 12\n"
    )
    assert append_item("name: x\n", ["products"], {"name": "wax"}) == (
        "name: x\nproducts:\n  - name: wax\n"
    )


def test_an_item_is_removed_with_its_lines_and_the_others_comments_stay() -> None:
    assert remove_item(CATALOGUE, ["services", 1]) == CATALOGUE.replace(
        "  - name: colouring\n    price: 60\n    names: {fr: coloration}\n", ""
    )
    assert remove_item(CATALOGUE, ["services", 0]).startswith("services:\n\n  # seasonal\n")
    with pytest.raises(YamlEditError, match="there is no item 5"):
        remove_item(CATALOGUE, ["services", 5])


def test_a_key_inside_braces_is_set_added_and_removed_on_the_braces_line() -> None:
    """`names: {fr: coloration}` keeps its one line: once a key set there replaced the whole
    mapping with the value, and a key added there was written below it, misindented."""
    names = ["services", 1, "names"]
    assert set_value(CATALOGUE, [*names, "fr"], "couleur") == CATALOGUE.replace(
        "{fr: coloration}", "{fr: couleur}"
    )
    assert set_value(CATALOGUE, [*names, "de"], "Färbung, Strähnen") == CATALOGUE.replace(
        "{fr: coloration}", '{fr: coloration, de: "Färbung, Strähnen"}'
    )
    two = set_value(CATALOGUE, [*names, "de"], "Färbung")
    assert remove_key(two, [*names, "fr"]) == CATALOGUE.replace("{fr: coloration}", "{de: Färbung}")


def test_a_list_items_first_key_keeps_its_dash_when_its_value_is_rewritten() -> None:
    items = "items:\n  - custom:\n      a: 1\n    channel: slack\n"
    assert set_value(items, ["items", 0, "custom"], {"a": 2, "b": 3}) == (
        "items:\n  - custom:\n      a: 2\n      b: 3\n    channel: slack\n"
    )
