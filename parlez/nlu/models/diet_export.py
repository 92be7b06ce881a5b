"""Exporting a trained DIETModel's inference to ONNX, checked against torch."""

from __future__ import annotations

from typing import Any

import torch

from parlez.nlu.models.diet_network import DIETInference, DIETModel
from parlez.nlu.models.diet_runtime import INTENTS
from parlez.nlu.models.onnx_graph import checked_session, to_onnx


def export(model: DIETModel) -> tuple[bytes, Any]:
    """`model`'s inference after its embeddings (`DIETInference`) as an ONNX graph, with a
    dynamic batch and length, and ONNX Runtime's session of it; raises ExportMismatchError
    if its results differ from torch's."""
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
    example = _example(model, rows=3, lengths=[1, 5, 3])
    real = ~example[1][:, 1:].numpy()  # the tokens' positions, padding and sentence left out
    return exported, checked_session(exported, graph, example, real)


def _example(model: DIETModel, rows: int, lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Embedded inputs of `rows` messages with `lengths` tokens, padded to the longest."""
    size = max(lengths)
    hidden = torch.randn((rows, size + 1, model.position.embedding_dim))
    padding = torch.arange(size + 1).unsqueeze(0) > torch.tensor(lengths).unsqueeze(1)
    return hidden, padding
