"""DIET's network served by ONNX Runtime computes what torch computes, for every kind of
input the featurizers give: sparse and dense features, long and empty messages."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import torch

from parlez.nlu.classifiers.diet import DIETClassifier
from parlez.nlu.features import MessageFeatures
from parlez.nlu.models.diet_export import export
from parlez.nlu.models.diet_network import Dimensions
from parlez.nlu.models.diet_runtime import DIETRuntime
from parlez.nlu.models.onnx_graph import ExportMismatchError

TAGS = {"entity": ["O", "B-city", "I-city", "L-city", "U-city"], "role": ["O", "U-from", "U-to"]}


def _classifier(dense: int, max_tokens: int = 6) -> DIETClassifier:
    torch.manual_seed(3)
    classifier = DIETClassifier({"max_tokens": max_tokens, "transformer_size": 32})
    classifier.intents_ = ["a", "b", "c"]
    classifier.tags_ = TAGS
    dims = Dimensions(40, 30, dense, 3, {name: len(tags) for name, tags in TAGS.items()})
    classifier.model_ = classifier._network(dims).eval()
    return classifier


def _features(tokens: int, dense: int, seed: int) -> MessageFeatures:
    rng = np.random.default_rng(seed)
    return MessageFeatures(
        scipy.sparse.random(tokens, 40, density=0.2, format="csr", random_state=seed),
        scipy.sparse.random(1, 30, density=0.3, format="csr", random_state=seed),
        rng.normal(size=(tokens, dense)).astype(np.float32) if dense else None,
        rng.normal(size=dense).astype(np.float32) if dense else None,
    )


@pytest.mark.parametrize("dense", [0, 12])
def test_onnx_runtime_gives_torchs_intents_and_tags(dense: int) -> None:
    classifier = _classifier(dense)
    assert classifier.model_ is not None
    weights = {k: v.detach().numpy() for k, v in classifier.model_.state_dict().items()}
    runtime = DIETRuntime(export(classifier.model_)[1], weights, 6, TAGS)
    # lengths 3, 1, 0 (no tokens) and 9 (beyond max_tokens), in one batch and one by one
    features = [_features(n, dense, seed) for seed, n in enumerate([3, 1, 0, 9])]
    for batch in [features, *([f] for f in features)]:
        intents, tagged = runtime.predict(batch)
        want_intents, want_tagged = classifier.model_.predict(classifier._batch(batch))
        assert intents is not None and want_intents is not None
        assert np.allclose(intents, want_intents.numpy(), atol=1e-5)
        for name, (best, probabilities) in tagged.items():
            want_best, want_probabilities = want_tagged[name]
            assert best == want_best
            assert np.allclose(probabilities, want_probabilities.numpy(), atol=1e-5)


def test_a_graph_that_disagrees_with_torch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = _classifier(0)
    assert classifier.model_ is not None
    exported, _ = export(classifier.model_)
    with torch.no_grad():
        classifier.model_.output_norm.bias.add_(1.0)  # the graph was exported before this
    monkeypatch.setattr("parlez.nlu.models.diet_export.to_onnx", lambda *a, **k: exported)
    with pytest.raises(ExportMismatchError):
        export(classifier.model_)
