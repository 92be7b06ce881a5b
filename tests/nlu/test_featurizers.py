from __future__ import annotations

import numpy as np
import pytest

from parlez.nlu.featurizers import count_vectors
from tests.nlu.helpers import run, trained

DATA = """
- intent: greet
  examples: |
    - Hello there
    - hello again
- intent: bye
  examples: |
    - bye now
- regex: zip
  examples: |
    - \\d{5}
- lookup: city
  examples: |
    - New York
    - Paris
"""


def test_count_vectors_give_each_token_its_word_and_the_sentence_its_ngrams() -> None:
    pipeline = trained(["WhitespaceTokenizer", ("CountVectorsFeaturizer", {"max_ngram": 2})], DATA)
    featurizer = pipeline.steps[1]
    vocabulary = featurizer.vocabulary_  # type: ignore[attr-defined]
    assert {"hello", "there", "hello there", "bye now"} <= set(vocabulary)
    features = run(pipeline, "hello hello there").features[featurizer.key]
    sequence = features.sequence.toarray()
    assert sequence.shape == (3, len(vocabulary))
    assert sequence[0, vocabulary["hello"]] == 1 and sequence[2, vocabulary["there"]] == 1
    sentence = features.sentence.toarray()[0]
    assert sentence[vocabulary["hello"]] == 2 and sentence[vocabulary["hello there"]] == 1


def test_unseen_words_count_as_the_oov_token_when_one_is_set() -> None:
    pipeline = trained(
        ["WhitespaceTokenizer", ("CountVectorsFeaturizer", {"OOV_token": "oov"})], DATA
    )
    featurizer = pipeline.steps[1]
    sentence = run(pipeline, "hello zebra giraffe").features[featurizer.key].sentence.toarray()[0]
    assert sentence[featurizer.vocabulary_["oov"]] == 2  # type: ignore[attr-defined]


def test_a_word_seen_before_gives_the_same_row_and_a_new_vocabulary_forgets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = ("CountVectorsFeaturizer", {"analyzer": "char_wb", "max_ngram": 3})
    pipeline = trained(["WhitespaceTokenizer", config], DATA)
    featurizer = pipeline.steps[1]
    first = run(pipeline, "hello paris").features[featurizer.key]
    again = run(pipeline, "hello paris").features[featurizer.key]
    assert (first.sequence != again.sequence).nnz == 0
    assert (first.sentence != again.sentence).nnz == 0
    # trained again on other words: "hello" is counted with the new vocabulary's columns
    other = trained(
        ["WhitespaceTokenizer", config], "- intent: greet\n  examples: |\n    - yellow\n"
    )
    featurizer.set_state(other.steps[1].state())
    row = run(pipeline, "hello").features[featurizer.key].sequence
    fresh = run(other, "hello").features[other.steps[1].key].sequence
    assert row.shape == fresh.shape and (row != fresh).nnz == 0
    # a full store of words is emptied, not grown
    monkeypatch.setattr(count_vectors, "KEPT_WORDS", 2)
    for text in ("a", "b", "c", "d"):
        run(pipeline, text)
    assert len(featurizer._word_rows) <= 2  # type: ignore[attr-defined]


def test_char_wb_ngrams_are_padded_with_spaces() -> None:
    pipeline = trained(
        [
            "WhitespaceTokenizer",
            ("CountVectorsFeaturizer", {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 3}),
        ],
        DATA,
    )
    vocabulary = pipeline.steps[1].vocabulary_  # type: ignore[attr-defined]
    assert " b" in vocabulary and "ye " in vocabulary and "by" in vocabulary

    # The sentence counts every n-gram of the message: its tokens' counts summed.
    features = run(pipeline, "bye bye hello zebra").features[pipeline.steps[1].key]
    sentence = features.sentence.toarray()[0]
    assert sentence[vocabulary["by"]] == 2 and sentence[vocabulary["he"]] == 1
    assert np.array_equal(sentence, features.sequence.toarray().sum(axis=0))
    assert features.sentence.dtype == np.float32
    empty = run(pipeline, "   ").features[pipeline.steps[1].key]
    assert empty.sequence.shape[0] == 0 and empty.sentence.nnz == 0


def test_min_df_drops_rare_terms() -> None:
    pipeline = trained(["WhitespaceTokenizer", ("CountVectorsFeaturizer", {"min_df": 2})], DATA)
    assert set(pipeline.steps[1].vocabulary_) == {"hello"}  # type: ignore[attr-defined]


def test_lexical_features_describe_each_token_and_its_neighbours() -> None:
    pipeline = trained(["WhitespaceTokenizer", "LexicalSyntacticFeaturizer"], DATA)
    featurizer = pipeline.steps[1]
    vocabulary = featurizer.vocabulary_  # type: ignore[attr-defined]
    sequence = run(pipeline, "Hello there").features[featurizer.key].sequence.toarray()
    assert (
        sequence[0, vocabulary["0:BOS:True"]] == 1 and sequence[0, vocabulary["0:title:True"]] == 1
    )
    assert (
        sequence[1, vocabulary["-1:title:True"]] == 1 and sequence[1, vocabulary["0:EOS:True"]] == 1
    )


def test_regex_features_mark_the_tokens_a_regex_or_lookup_matches() -> None:
    pipeline = trained(["WhitespaceTokenizer", "RegexFeaturizer"], DATA)
    featurizer = pipeline.steps[1]
    features = run(pipeline, "from New York to 75001").features[featurizer.key]
    sequence = features.sequence.toarray()
    assert sequence.tolist() == [[0, 0], [0, 1], [0, 1], [0, 0], [1, 0]]
    assert np.array_equal(features.sentence.toarray(), [[1, 1]])
