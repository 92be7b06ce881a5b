from __future__ import annotations

import pytest

from parlez.nlu.tokenizers.whitespace import WhitespaceTokenizer


def words(text: str) -> list[str]:
    return [t.text for t in WhitespaceTokenizer().tokenize(text)]


def test_tokens_carry_their_character_offsets() -> None:
    tokens = WhitespaceTokenizer().tokenize("book  a table!")
    assert [(t.text, t.start, t.end) for t in tokens] == [
        ("book", 0, 4),
        ("a", 6, 7),
        ("table", 8, 13),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", ["Hello", "world"]),
        ("mail anna.b@example.com now", ["mail", "anna.b@example.com", "now"]),
        ("see https://example.org/a?b=1 please", ["see", "https://example.org/a?b=1", "please"]),
        ("it costs 10.50 at 3:30pm", ["it", "costs", "10.50", "at", "3:30pm"]),
        ("a blow-dry, can't wait", ["a", "blow-dry", "can't", "wait"]),
        ("#sale for @maple", ["#sale", "for", "@maple"]),
        ("call +44 20 7946 0958", ["call", "+44", "20", "7946", "0958"]),
        ("1 + 1", ["1", "1"]),
        ("hi 😀 there", ["hi", "there"]),
        ("Grüße aus Köln", ["Grüße", "aus", "Köln"]),
        ("?!...", []),
    ],
)
def test_whitespace_tokenizer_keeps_words_whole_and_drops_edge_punctuation(
    text: str, expected: list[str]
) -> None:
    assert words(text) == expected


def test_intent_names_split_only_when_asked() -> None:
    assert WhitespaceTokenizer().tokenize_intent("ask_hours") == ["ask_hours"]
    splitting = WhitespaceTokenizer({"intent_tokenization_flag": True, "intent_split_symbol": "+"})
    assert splitting.tokenize_intent("greet+ask_hours") == ["greet", "ask_hours"]


def test_a_custom_token_pattern_replaces_the_default() -> None:
    tokenizer = WhitespaceTokenizer({"token_pattern": r"\S+"})
    assert [t.text for t in tokenizer.tokenize("hi, there!")] == ["hi,", "there!"]


def test_jieba_segments_chinese_with_offsets() -> None:
    from parlez.nlu.tokenizers.jieba import JiebaTokenizer

    tokens = JiebaTokenizer().tokenize("我想订明天去北京的机票")
    assert "".join(t.text for t in tokens) == "我想订明天去北京的机票"
    assert ("北京", 6, 8) in [(t.text, t.start, t.end) for t in tokens]
