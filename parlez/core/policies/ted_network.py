"""The torch network behind TEDPolicy, and its export to ONNX for serving without torch."""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from parlez.nlu.models.onnx_graph import checked_session, key_mask, pre_norm_layer, to_onnx


class TEDNetwork(nn.Module):
    def __init__(
        self,
        features: int,
        actions: int,
        hidden: int,
        layers: int,
        history: int,
        drop: float,
        dense: int = 0,
    ) -> None:
        super().__init__()
        self.embed = nn.EmbeddingBag(max(features, 1), hidden, mode="sum")
        # the NLU pipeline's dense sentence vector of an end-to-end message, when it has one
        self.text_in = nn.Linear(dense, hidden, bias=False) if dense else None
        self.position = nn.Embedding(history, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(drop)
        layer = nn.TransformerEncoderLayer(
            hidden, 4, dim_feedforward=hidden * 2, dropout=drop, batch_first=True, norm_first=True
        )
        self.encoder = (
            nn.TransformerEncoder(layer, layers, enable_nested_tensor=False) if layers else None
        )
        self.out = nn.Linear(hidden, actions)
        self.history = history

    def forward(
        self,
        indices: torch.Tensor,
        weights: torch.Tensor,
        offsets: torch.Tensor,
        lengths: torch.Tensor,
        dense: torch.Tensor,
    ) -> torch.Tensor:
        """Scores (B, actions) for B dialogues of `lengths` states, right-aligned; `dense`
        holds each state's dense text vector (zeros without one)."""
        states = self.embed(indices, offsets, per_sample_weights=weights)  # (sum lengths, H)
        if self.text_in is not None:
            states = states + self.text_in(dense)
        batch = len(lengths)
        hidden = states.new_zeros((batch, self.history, states.shape[-1]))
        mask = torch.ones((batch, self.history), dtype=torch.bool)
        start = 0
        for row, length in enumerate(lengths.tolist()):
            hidden[row, self.history - length :] = states[start : start + length]
            mask[row, self.history - length :] = False
            start += length
        hidden = self.dropout(self.norm(hidden + self.position.weight.unsqueeze(0)))
        if self.encoder is not None:
            hidden = self.encoder(hidden, src_key_padding_mask=mask)
        scores: torch.Tensor = self.out(hidden[:, -1])
        return scores


class TEDInference(nn.Module):
    """What a trained TEDNetwork computes after embedding the states, as one graph to
    export: action scores (B, actions) from the states (B, history, H), right-aligned, and
    where each dialogue has none (`padding`, B x history)."""

    def __init__(self, network: TEDNetwork) -> None:
        super().__init__()
        self.network = network

    def forward(self, hidden: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        network = self.network
        hidden = network.norm(hidden + network.position.weight.unsqueeze(0))
        if network.encoder is not None:
            masked = key_mask(padding)
            for layer in network.encoder.layers:
                hidden = pre_norm_layer(cast(nn.TransformerEncoderLayer, layer), hidden, masked)
        scores: torch.Tensor = network.out(hidden[:, -1])
        return scores


def export(network: TEDNetwork) -> tuple[bytes, Any]:
    """`network`'s inference after its embeddings as an ONNX graph with a dynamic batch, and
    ONNX Runtime's session of it; raises ExportMismatchError if its scores differ from
    torch's."""
    graph = TEDInference(network).eval()
    exported = to_onnx(
        graph,
        _example(network, [network.history, 1]),
        ["hidden", "padding"],
        ["scores"],
        {"hidden": {0: "dialogues"}, "padding": {0: "dialogues"}, "scores": {0: "dialogues"}},
    )
    return exported, checked_session(exported, graph, _example(network, [2, network.history, 1]))


def _example(network: TEDNetwork, lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Embedded states of dialogues of `lengths` states, right-aligned."""
    history = network.history
    hidden = torch.randn((len(lengths), history, network.position.embedding_dim))
    padding = torch.arange(history).unsqueeze(0) < history - torch.tensor(lengths).unsqueeze(1)
    return hidden, padding
