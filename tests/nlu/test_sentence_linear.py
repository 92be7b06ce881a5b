"""The calibrated linear intent model inside DIETClassifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse

from parlez.nlu.classifiers.sentence_linear import SentenceLinearModel


def _data(rows: int, seed: int = 0) -> tuple[scipy.sparse.csr_matrix, np.ndarray, list[str]]:
    random = np.random.RandomState(seed)
    sparse = scipy.sparse.random(rows, 40, density=0.1, format="csr", random_state=random)
    sparse.data = np.ceil(sparse.data * 3)  # counts
    dense = random.normal(size=(rows, 8))
    labels = [["greet", "book", "price"][i % 3] for i in range(rows)]
    return sparse, dense, labels


def test_scores_are_the_stacked_feature_product_for_one_message_and_for_many() -> None:
    sparse, dense, labels = _data(60)
    model = SentenceLinearModel().fit(sparse, [dense], labels)
    for rows in (slice(0, 1), slice(0, 60)):
        stacked = model._inputs(sparse[rows], [dense[rows]]) @ model.coef_.T + model.intercept_
        assert np.allclose(model._scores(sparse[rows], [dense[rows]]), stacked, atol=1e-10)


def test_a_message_without_any_known_n_gram_is_scored_by_its_dense_vector_alone() -> None:
    sparse, dense, labels = _data(60)
    model = SentenceLinearModel().fit(sparse, [dense], labels)
    empty = scipy.sparse.csr_matrix((1, 40))
    probabilities = np.exp(model.log_probabilities(empty, [dense[:1]]))
    assert probabilities.shape == (1, 3)
    assert np.isclose(probabilities.sum(), 1.0)


def test_a_model_without_dense_features_scores_sparse_rows_only() -> None:
    sparse, _, labels = _data(60)
    model = SentenceLinearModel().fit(sparse, [], labels)
    stacked = model._inputs(sparse, []) @ model.coef_.T + model.intercept_
    assert np.allclose(model._scores(sparse, []), stacked, atol=1e-10)


def test_each_dense_block_is_normalised_on_its_own() -> None:
    sparse, dense, labels = _data(60)
    pooled = np.random.RandomState(1).normal(size=(60, 5))
    model = SentenceLinearModel().fit(sparse, [dense, pooled], labels)
    stacked = model._inputs(sparse, [dense, pooled]) @ model.coef_.T + model.intercept_
    assert np.allclose(model._scores(sparse, [dense, pooled]), stacked, atol=1e-10)
    # A block's scale does not matter, whatever the other's.
    assert np.allclose(
        model._scores(sparse, [dense, pooled * 7.0]), model._scores(sparse, [dense, pooled])
    )
    assert model.coef_.shape[1] == 40 + 8 + 5


def test_a_model_saved_before_dense_blocks_were_counted_loads_with_one_block(
    tmp_path: Path,
) -> None:
    sparse, dense, labels = _data(60)
    model = SentenceLinearModel().fit(sparse, [dense], labels)
    arrays = model.arrays()
    del arrays["dense_blocks"]
    np.savez(tmp_path / "linear.npz", **arrays)
    loaded = SentenceLinearModel.load(tmp_path, model.labels_)
    assert loaded.dense_blocks_ == 1
    assert np.allclose(
        loaded.log_probabilities(sparse, [dense]), model.log_probabilities(sparse, [dense])
    )
    sparse_only = SentenceLinearModel().fit(sparse, [], labels).arrays()
    del sparse_only["dense_blocks"]
    np.savez(tmp_path / "linear.npz", **sparse_only)
    assert SentenceLinearModel.load(tmp_path, model.labels_).dense_blocks_ == 0
