"""The unanswered questions' groups are named by the words most of their questions use, in
any of the assistant's languages."""

from __future__ import annotations

from parlez.console.unanswered import topic_of


def test_a_group_is_named_by_the_words_more_than_half_of_its_questions_use() -> None:
    instalments = [
        "can I pay in monthly instalments?",
        "do you offer payment in instalments",
        "can i pay in instalments",
    ]
    assert topic_of(instalments) == "pay instalments"  # in the first question's order
    assert topic_of(["do you have wifi for customers?", "is there free wifi?"]) == "wifi"


def test_small_words_of_every_language_name_nothing() -> None:
    assert topic_of(["vous vendez des bons cadeaux ?", "bons cadeaux disponibles ?"]) == (
        "bons cadeaux"
    )
    assert topic_of(["haben Sie Gutscheine?", "gibt es Gutscheine"]) == "gutscheine"
    assert topic_of(["is it open on sunday?", "what are your hours"]) == ""
    assert topic_of(["do you sell gift cards for christmas"]) == ""  # its own name
