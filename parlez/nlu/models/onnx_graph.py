"""Exporting parlez's own torch networks (DIET's, TED's) to ONNX graphs that ONNX Runtime
serves without torch."""

from __future__ import annotations

import logging
import math
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from parlez.inference import ONNX_OPSET, open_session


class ExportMismatchError(ValueError):
    """An exported graph computes something else than the network it came from."""


def checked_session(
    exported: bytes,
    module: nn.Module,
    example: tuple[torch.Tensor, torch.Tensor],
    real: np.ndarray | None = None,
) -> Any:
    """ONNX Runtime's session of `exported`, once its outputs on `example` (`hidden`,
    `padding`) agree with `module`'s: per position outputs only where `real` (B, T) is True,
    when given. Raises ExportMismatchError.

    Checked on another batch size and length than the export's: a shape the export baked in
    shows here."""
    hidden, padding = example
    session = open_session(exported)
    got = session.run(None, {"hidden": hidden.numpy(), "padding": padding.numpy()})
    with torch.no_grad():
        want = module(hidden, padding)
    for ours, theirs in zip(got, want if isinstance(want, tuple) else (want,), strict=True):
        theirs = theirs.numpy()
        if real is not None and ours.ndim == 3:
            ours, theirs = ours[real], theirs[real]
        if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=1e-4, atol=1e-4):
            raise ExportMismatchError(
                f"the exported {type(module).__name__} graph disagrees with torch's"
            )
    return session


def to_onnx(
    module: nn.Module,
    example: tuple[torch.Tensor, ...],
    inputs: Sequence[str],
    outputs: Sequence[str],
    dynamic: Mapping[str, Mapping[int, str]],
) -> bytes:
    """`module` in evaluation, traced on `example`, as an ONNX graph whose `dynamic` axes
    (per input or output name: axis -> name) take any size."""
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on Python values it records
        written = Path(folder) / "graph.onnx"
        torch.onnx.export(
            module.eval(),
            example,
            written,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes={name: dict(axes) for name, axes in dynamic.items()},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
        return written.read_bytes()


#: weights sharing one scale in `in_8_bit_blocks`: blocks of 128 ran the packaged encoder
#: 15 % faster than blocks of 32 (a SNIPS message 2.2-2.3 ms against 2.6-3.1, a whole parse
#: 4.8-5.0 against 5.3), its vectors still within a cosine of 0.998 of the float ones
BLOCK = 128


def in_8_bit_blocks(exported: bytes) -> bytes:
    """`exported` with the weights of its matrix products in 8 bits, one scale per block of
    BLOCK (ONNX Runtime's MatMulNBits), multiplied in 8-bit integers. Raises ImportError
    without the `onnx-ir` package ONNX Runtime's quantizer needs."""
    import onnx

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    finally:  # the quantizer's module calls logging.basicConfig(level=INFO) when imported
        root.handlers[:] = handlers
        root.setLevel(level)
    # ... and logs every node it leaves alone at INFO
    logging.getLogger(MatMulNBitsQuantizer.__module__).setLevel(logging.WARNING)
    quantizer = MatMulNBitsQuantizer(
        onnx.load_from_string(exported),
        bits=8,
        block_size=BLOCK,
        is_symmetric=True,
        accuracy_level=4,  # int8 products: fp32 ones on 8-bit weights were 3x slower here
    )
    quantizer.process()
    quantized: bytes = quantizer.model.model.SerializeToString()
    return quantized


def pre_norm_layer(
    layer: nn.TransformerEncoderLayer, x: torch.Tensor, masked: torch.Tensor
) -> torch.Tensor:
    """One of torch's pre-norm (`norm_first`) encoder layers in evaluation (no dropout),
    written out with its own weights; `masked` (B, L) is -inf at the keys attention must not
    see, 0 elsewhere.

    Traced through torch's MultiheadAttention, the export keeps the example's length in a
    reshape and fails on any other; this form exports with every axis free.
    """
    attention = layer.self_attn
    heads = attention.num_heads
    q, k, v = nn.functional.linear(
        layer.norm1(x), attention.in_proj_weight, attention.in_proj_bias
    ).chunk(3, dim=-1)

    def split(t: torch.Tensor) -> torch.Tensor:  # (B, L, H) -> (B, heads, L, H / heads)
        return t.reshape(t.shape[0], t.shape[1], heads, -1).transpose(1, 2)

    scores = split(q) @ split(k).transpose(-2, -1) / math.sqrt(attention.head_dim)
    weights = torch.softmax(scores + masked[:, None, None, :], -1)
    context = (weights @ split(v)).transpose(1, 2).reshape(x.shape)
    x = x + attention.out_proj(context)
    feed: torch.Tensor = layer.linear2(layer.activation(layer.linear1(layer.norm2(x))))
    return x + feed


def key_mask(padding: torch.Tensor) -> torch.Tensor:
    """A boolean padding mask (True: no token) as the additive mask `pre_norm_layer` takes."""
    return torch.zeros(padding.shape).masked_fill(padding, float("-inf"))
