"""TED's network served by ONNX Runtime computes torch's action scores, for dialogues of
every length, with and without end-to-end text vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from parlez.core.policies.ted import _tensors
from parlez.core.policies.ted_network import TEDNetwork, export
from parlez.core.policies.ted_runtime import Dialogues, TEDRuntime
from parlez.nlu.models.onnx_graph import ExportMismatchError


def _dialogues(lengths: list[int], dense: int, seed: int = 0) -> Dialogues:
    rng = np.random.default_rng(seed)
    states = sum(lengths)
    per_state = rng.integers(0, 4, size=states)  # a state may have no feature at all
    return Dialogues(
        rng.integers(0, 20, size=int(per_state.sum())).astype(np.int64),
        rng.uniform(0.2, 1.0, size=int(per_state.sum())).astype(np.float32),
        np.concatenate([[0], np.cumsum(per_state)[:-1]]).astype(np.int64),
        np.asarray(lengths, dtype=np.int64),
        rng.normal(size=(states, dense)).astype(np.float32),
    )


@pytest.mark.parametrize("dense", [0, 6])
def test_onnx_runtime_gives_torchs_action_scores(dense: int) -> None:
    torch.manual_seed(5)
    network = TEDNetwork(20, 7, 16, 1, 4, 0.1, dense).eval()
    weights = {k: v.detach().numpy() for k, v in network.state_dict().items()}
    runtime = TEDRuntime(export(network)[1], weights, history=4)
    for lengths in ([4, 1, 3], [2], [1, 1]):
        dialogues = _dialogues(lengths, dense, seed=len(lengths))
        with torch.no_grad():
            want = network(*_tensors(dialogues)).numpy()
        assert np.allclose(runtime.scores(dialogues), want, atol=1e-5)


def test_a_graph_that_disagrees_with_torch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(5)
    network = TEDNetwork(20, 7, 16, 1, 4, 0.1).eval()
    exported, _ = export(network)
    with torch.no_grad():
        network.norm.bias.add_(1.0)  # the graph was exported before this
    monkeypatch.setattr("parlez.core.policies.ted_network.to_onnx", lambda *a, **k: exported)
    with pytest.raises(ExportMismatchError, match="TEDInference graph disagrees"):
        export(network)
