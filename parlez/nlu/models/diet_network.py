"""The torch network behind DIETClassifier: a transformer over sparse and dense token
features, with an intent head on a sentence position and CRF taggers for entities, roles
and groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from parlez.nlu.models.crf import CRF
from parlez.nlu.models.onnx_graph import key_mask, pre_norm_layer


@dataclass
class Batch:
    """A batch of messages as tensors. Sparse rows are (index, value) bags per token."""

    token_indices: torch.Tensor  # all tokens' nonzero columns, concatenated
    token_values: torch.Tensor
    token_offsets: torch.Tensor  # where each token's bag starts in token_indices
    token_counts: torch.Tensor  # tokens per message (B,)
    sentence_indices: torch.Tensor
    sentence_values: torch.Tensor
    sentence_offsets: torch.Tensor  # one bag per message
    dense_tokens: torch.Tensor | None  # (total tokens, D)
    dense_sentence: torch.Tensor | None  # (B, D)
    intents: torch.Tensor | None = None  # (B,)
    tags: dict[str, torch.Tensor] | None = None  # name -> (B, T) tag ids


@dataclass
class Dimensions:
    sparse_tokens: int
    sparse_sentence: int
    dense: int
    intents: int
    tags: dict[str, int]  # "entity" / "role" / "group" -> number of tags


class DIETModel(nn.Module):
    def __init__(
        self,
        dims: Dimensions,
        hidden: int = 256,
        layers: int = 2,
        heads: int = 4,
        max_tokens: int = 128,
        drop_rate: float = 0.2,
        attention_dropout: float = 0.0,
        tag_names: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.dims = dims
        self.max_tokens = max_tokens
        # Sparse gradients: a batch touches a few hundred of the tens of thousands of n-gram
        # rows, and updating only those is what keeps an epoch fast on a CPU.
        self.token_sparse = nn.EmbeddingBag(
            max(dims.sparse_tokens, 1), hidden, mode="sum", sparse=True
        )
        self.sentence_sparse = nn.EmbeddingBag(
            max(dims.sparse_sentence, 1), hidden, mode="sum", sparse=True
        )
        self.dense = nn.Linear(dims.dense, hidden) if dims.dense else None
        self.position = nn.Embedding(max_tokens + 1, hidden)
        self.input_norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(drop_rate)
        # Dropout inside the layers is off by default: on a CPU its random masks cost more than
        # the layers themselves, and input dropout plus the CRF regularise well enough.
        layer = nn.TransformerEncoderLayer(
            hidden,
            heads,
            dim_feedforward=hidden * 2,
            dropout=attention_dropout,
            batch_first=True,
            norm_first=True,
            activation="gelu",
        )
        self.encoder = (
            nn.TransformerEncoder(layer, layers, enable_nested_tensor=False) if layers else None
        )
        self.output_norm = nn.LayerNorm(hidden)
        self.intent_head = nn.Linear(hidden, dims.intents) if dims.intents else None
        self.tag_heads = nn.ModuleDict(
            {name: nn.Linear(hidden, n) for name, n in dims.tags.items()}
        )
        # With tag names (BILOU), the CRFs only ever decode well-formed spans.
        names = tag_names or {}
        self.crfs = nn.ModuleDict({name: CRF(n, names.get(name)) for name, n in dims.tags.items()})

    def sparse_parameters(self) -> list[torch.Tensor]:
        return [self.token_sparse.weight, self.sentence_sparse.weight]

    def encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states (B, 1 + T, H) with the sentence at position 0, and the token mask (B, T)."""
        counts = batch.token_counts.clamp(max=self.max_tokens)
        size = int(counts.max().item()) if len(counts) else 0
        tokens = self.token_sparse(
            batch.token_indices, batch.token_offsets, per_sample_weights=batch.token_values
        )
        if self.dense is not None and batch.dense_tokens is not None:
            tokens = tokens + self.dense(batch.dense_tokens)
        sentence = self.sentence_sparse(
            batch.sentence_indices, batch.sentence_offsets, per_sample_weights=batch.sentence_values
        )
        if self.dense is not None and batch.dense_sentence is not None:
            sentence = sentence + self.dense(batch.dense_sentence)
        hidden = tokens.new_zeros((len(counts), size + 1, tokens.shape[-1]))
        hidden[:, 0] = sentence
        mask = torch.arange(size).unsqueeze(0) < counts.unsqueeze(1)
        starts = torch.cumsum(batch.token_counts, 0) - batch.token_counts
        for row, (start, count) in enumerate(zip(starts.tolist(), counts.tolist(), strict=True)):
            hidden[row, 1 : count + 1] = tokens[start : start + count]
        padding = torch.cat([torch.zeros((len(counts), 1), dtype=torch.bool), ~mask], dim=1)
        hidden = hidden + self.position(torch.arange(hidden.shape[1])).unsqueeze(0)
        hidden = self.dropout(self.input_norm(hidden))
        if self.encoder is not None:
            hidden = self.encoder(hidden, src_key_padding_mask=padding)
        return self.output_norm(hidden), mask

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        hidden, mask = self.encode(batch)
        total = hidden.new_zeros(())
        metrics: dict[str, float] = {}
        if self.intent_head is not None and batch.intents is not None:
            logits = self.intent_head(hidden[:, 0])
            total = total + nn.functional.cross_entropy(logits, batch.intents)
            metrics["acc"] = float((logits.argmax(-1) == batch.intents).float().mean())
        for name, crf in self.crfs.items():
            if batch.tags is None or name not in batch.tags:
                continue
            emissions, crf_mask, tags = self._crf_inputs(name, hidden, mask, batch.tags[name])
            likelihood = cast(CRF, crf).log_likelihood(emissions, tags, crf_mask)
            total = total - likelihood.sum() / crf_mask.sum()
        metrics["loss"] = float(total.detach())
        return total, metrics

    def _crf_inputs(
        self, name: str, hidden: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        emissions = self.tag_heads[name](hidden[:, 1:])
        # The CRF needs one open position per row; an empty message gets one "O" slot.
        crf_mask = mask.clone()
        if crf_mask.shape[1] == 0:
            emissions = hidden.new_zeros((len(mask), 1, emissions.shape[-1]))
            crf_mask = torch.ones((len(mask), 1), dtype=torch.bool)
        crf_mask[:, 0] = True
        if tags is None:
            tags = torch.zeros(crf_mask.shape, dtype=torch.long)
        return emissions, crf_mask, tags[:, : crf_mask.shape[1]]

    @torch.no_grad()
    def predict(
        self, batch: Batch
    ) -> tuple[torch.Tensor | None, dict[str, tuple[list[list[int]], torch.Tensor]]]:
        """Intent probabilities (B, intents) and, per tagger, the best tags and tag probabilities."""
        hidden, mask = self.encode(batch)
        intents = (
            torch.softmax(self.intent_head(hidden[:, 0]), -1)
            if self.intent_head is not None
            else None
        )
        tagged: dict[str, tuple[list[list[int]], torch.Tensor]] = {}
        for name, crf in self.crfs.items():
            emissions, crf_mask, _ = self._crf_inputs(name, hidden, mask)
            best = cast(CRF, crf).decode(emissions, crf_mask)
            tagged[name] = (best, torch.softmax(emissions, -1))
        return intents, tagged


class DIETInference(nn.Module):
    """What a trained DIETModel computes after its embeddings, as one graph to export: the
    intent probabilities and each tagger's emission scores from the embedded inputs.

    The sparse embedding bags stay out: summing a few of tens of thousands of rows is a
    sparse matrix product the caller does in NumPy, and the graph stays small.
    """

    def __init__(self, model: DIETModel) -> None:
        super().__init__()
        self.model = model
        self.tag_names = list(model.tag_heads)

    def forward(self, hidden: torch.Tensor, padding: torch.Tensor) -> tuple[torch.Tensor, ...]:
        model = self.model
        hidden = hidden + model.position(torch.arange(hidden.shape[1])).unsqueeze(0)
        hidden = model.input_norm(hidden)
        if model.encoder is not None:
            masked = key_mask(padding)
            for layer in model.encoder.layers:
                hidden = pre_norm_layer(cast(nn.TransformerEncoderLayer, layer), hidden, masked)
        hidden = model.output_norm(hidden)
        outputs = []
        if model.intent_head is not None:
            outputs.append(torch.softmax(model.intent_head(hidden[:, 0]), -1))
        outputs += [model.tag_heads[name](hidden[:, 1:]) for name in self.tag_names]
        return tuple(outputs)
