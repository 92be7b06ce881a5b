from __future__ import annotations

import pytest

from parlez.config import ComponentConfig, Config
from parlez.diagnostics import collect
from parlez.nlu.classifiers.logistic_regression import NotEnoughIntentsError
from parlez.nlu.pipeline import Pipeline, PipelineOrderError
from parlez.registry import UnknownComponentError
from tests.nlu.helpers import data, trained

DATA = """
- intent: greet
  examples: |
    - hi
    - hello there
- intent: bye
  examples: |
    - bye
    - see you later
"""
FULL = [
    "WhitespaceTokenizer",
    "RegexFeaturizer",
    "LexicalSyntacticFeaturizer",
    "CountVectorsFeaturizer",
    ("CountVectorsFeaturizer", {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}),
    "LogisticRegressionClassifier",
    "RegexEntityExtractor",
    "EntitySynonymMapper",
    "FallbackClassifier",
]


def test_an_unknown_component_is_an_error_naming_the_closest_ones() -> None:
    config = Config.from_yaml(
        "assistant_id: a\npipeline:\n  - name: WhitespaceTokeniser\n", "config.yml"
    )
    with pytest.raises(UnknownComponentError) as caught:
        Pipeline.from_config(config.pipeline)
    assert "unknown component 'WhitespaceTokeniser'" in caught.value.message
    assert caught.value.hint == "did you mean 'WhitespaceTokenizer'?"
    assert str(caught.value.where) == "config.yml:3:5"


def test_a_parameter_parlez_does_not_use_gets_one_warning_naming_it() -> None:
    with collect() as warnings:
        Pipeline.from_config(
            [
                ComponentConfig("WhitespaceTokenizer"),
                ComponentConfig(
                    "CountVectorsFeaturizer",
                    {"analyzer": "word", "run_eagerly": True, "alias": "cv"},
                ),
            ]
        )
    assert [w.code for w in warnings] == ["P181"]
    assert "run_eagerly" in warnings[0].message and "alias" not in warnings[0].message


def test_a_component_placed_before_what_it_needs_is_an_error() -> None:
    with pytest.raises(PipelineOrderError, match="needs tokens and features") as caught:
        Pipeline.from_config([ComponentConfig("LogisticRegressionClassifier")])
    assert "tokenizer" in (caught.value.hint or "")


def test_intent_classification_needs_two_intents() -> None:
    with pytest.raises(NotEnoughIntentsError):
        trained(
            ["WhitespaceTokenizer", "CountVectorsFeaturizer", "LogisticRegressionClassifier"],
            "- intent: a\n  examples: |\n    - x\n    - y\n",
        )


def test_weak_training_data_gets_warnings_naming_the_place() -> None:
    with collect() as warnings:
        Pipeline.from_config([ComponentConfig("WhitespaceTokenizer")]).train(
            data("- intent: only\n  examples: |\n    - just one\n")
        )
    assert sorted(w.code for w in warnings) == ["P193", "P196"]
    assert all(w.where is not None and w.where.line == 5 for w in warnings if w.code == "P196")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t",
        "x" * 10_000,
        "y" * 50_000,
        "😀👍🏽🎉",
        "Hello мир 你好 مرحبا",
        "שלום עולם",
        "\x00\x07\x1b[31mred",
        None,
    ],
)
def test_parsing_never_fails_and_always_has_rasa_s_shape(text: str) -> None:
    pipeline = trained(FULL, DATA)
    result = pipeline.parse(text)  # type: ignore[arg-type]
    assert set(result) >= {"text", "intent", "entities", "text_tokens"}
    assert result["intent"]["name"] in {"greet", "bye", "nlu_fallback"}
    assert all(0 <= start < end <= 10_000 for start, end in result["text_tokens"])


def test_parse_output_matches_rasa_s_model_parse() -> None:
    result = trained(FULL, DATA).parse("hello there")
    assert list(result) == ["text", "intent", "entities", "text_tokens", "intent_ranking"]
    assert result["text"] == "hello there"
    assert result["intent"]["name"] == "greet" and 0 < result["intent"]["confidence"] <= 1
    assert result["text_tokens"] == [[0, 5], [6, 11]]
    assert result["intent_ranking"][0] == result["intent"]
