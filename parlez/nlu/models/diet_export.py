"""Exporting a trained DIETModel's inference to ONNX, checked against torch."""

from __future__ import annotations

import numpy as np
import torch

from parlez.inference import open_session
from parlez.nlu.models.diet_network import DIETInference, DIETModel
from parlez.nlu.models.diet_runtime import INTENTS
from parlez.nlu.models.onnx_graph import ExportMismatchError, to_onnx


def export(model: DIETModel) -> bytes:
    """`model`'s inference after its embeddings (`DIETInference`) as an ONNX graph, with a
    dynamic batch and length; raises if ONNX Runtime's results differ from torch's."""
    graph = DIETInference(model).eval()
    outputs = ([INTENTS] if model.intent_head is not None else []) + graph.tag_names
    exported = to_onnx(
        graph,
        _example(model, rows=2, lengths=[4, 2]),
        ["hidden", "padding"],
        outputs,
        {
            "hidden": {0: "messages", 1: "positions"},
            "padding": {0: "messages", 1: "positions"},
            **{name: {0: "messages", 1: "tokens"} for name in graph.tag_names},
            **({INTENTS: {0: "messages"}} if model.intent_head is not None else {}),
        },
    )
    _check(exported, graph)
    return exported


def _example(model: DIETModel, rows: int, lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Embedded inputs of `rows` messages with `lengths` tokens, padded to the longest."""
    size = max(lengths)
    hidden = torch.randn((rows, size + 1, model.position.embedding_dim))
    padding = torch.arange(size + 1).unsqueeze(0) > torch.tensor(lengths).unsqueeze(1)
    return hidden, padding


def _check(exported: bytes, graph: DIETInference) -> None:
    """Compare on a batch of another size and length than the export's, at the real
    (unpadded) positions: a shape baked in by the export would show here."""
    lengths = [1, 5, 3]
    hidden, padding = _example(graph.model, rows=3, lengths=lengths)
    got = open_session(exported).run(None, {"hidden": hidden.numpy(), "padding": padding.numpy()})
    with torch.no_grad():
        want = graph(hidden, padding)
    real = ~padding[:, 1:].numpy()
    for ours, theirs in zip(got, want, strict=True):
        theirs = theirs.numpy()
        if ours.ndim == 3:
            ours, theirs = ours[real], theirs[real]
        if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=1e-4, atol=1e-4):
            raise ExportMismatchError("the exported DIET network disagrees with torch's")
