"""parlez's softmax, log-softmax and logistic give scipy.special's numbers, at any scale."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from parlez.probabilities import log_softmax, logistic, softmax


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_same_numbers_as_scipy(scale: float) -> None:
    scores = np.random.default_rng(0).normal(size=(5, 7)) * scale
    for axis in (0, 1, -1):
        assert np.allclose(softmax(scores, axis=axis), special.softmax(scores, axis=axis))
        assert np.allclose(log_softmax(scores, axis=axis), special.log_softmax(scores, axis=axis))
    with np.errstate(over="raise"):  # no overflow at either end
        assert np.allclose(logistic(scores), special.expit(scores), rtol=1e-12, atol=1e-300)
