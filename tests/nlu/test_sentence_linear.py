"""The calibrated linear intent model inside DIETClassifier."""

from __future__ import annotations

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
    model = SentenceLinearModel().fit(sparse, dense, labels)
    for rows in (slice(0, 1), slice(0, 60)):
        stacked = model._inputs(sparse[rows], dense[rows]) @ model.coef_.T + model.intercept_
        assert np.allclose(model._scores(sparse[rows], dense[rows]), stacked, atol=1e-10)


def test_a_message_without_any_known_n_gram_is_scored_by_its_dense_vector_alone() -> None:
    sparse, dense, labels = _data(60)
    model = SentenceLinearModel().fit(sparse, dense, labels)
    empty = scipy.sparse.csr_matrix((1, 40))
    probabilities = np.exp(model.log_probabilities(empty, dense[:1]))
    assert probabilities.shape == (1, 3)
    assert np.isclose(probabilities.sum(), 1.0)


def test_a_model_without_dense_features_scores_sparse_rows_only() -> None:
    sparse, _, labels = _data(60)
    model = SentenceLinearModel().fit(sparse, None, labels)
    stacked = model._inputs(sparse, None) @ model.coef_.T + model.intercept_
    assert np.allclose(model._scores(sparse, None), stacked, atol=1e-10)
