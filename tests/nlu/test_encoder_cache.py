"""The exported sentence encoder kept on disk (parlez.nlu.encoder_cache): a second process
loads it instead of importing transformers and exporting, and gets the same numbers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from parlez.nlu.encoder import MAX_PIECES, WEIGHT_COSINE, SentenceEncoder, packaged_model_path
from parlez.nlu.encoder_cache import (
    cache_dir,
    compiled_path,
    encoders_dir,
    keep_mapped,
    load_mapped,
)

TEXTS = ["hi", "book a beard trim for friday afternoon at two", "¿cuánto cuesta un corte?"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PARLEZ_CACHE_DIR", str(folder))
    return folder


def kept_files(cache: Path) -> list[Path]:
    return sorted((cache / "encoders").glob("*.onnx")) if (cache / "encoders").is_dir() else []


def test_the_first_encoder_keeps_its_export_and_the_next_loads_it_with_the_same_numbers(
    cache: Path,
) -> None:
    first = SentenceEncoder(packaged_model_path())
    exported = first.embed(TEXTS)
    assert len(kept_files(cache)) == 1

    second = SentenceEncoder(packaged_model_path())
    loaded = second.embed(TEXTS)
    assert second._model is None, "the eager transformers model should not be loaded"
    assert np.array_equal(exported, loaded)


def test_a_process_with_the_compiled_encoder_never_imports_transformers(cache: Path) -> None:
    SentenceEncoder(packaged_model_path()).embed(["warm"])
    script = (
        "import sys\n"
        "from parlez.nlu.encoder import encoder_at, packaged_model_path\n"
        "encoder_at(packaged_model_path()).embed(['hello there'])\n"
        "print('transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PARLEZ_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_an_unreadable_compiled_encoder_is_exported_again_and_replaced(cache: Path) -> None:
    expected = SentenceEncoder(packaged_model_path()).embed(TEXTS)
    (kept,) = kept_files(cache)
    kept.write_bytes(b"half a file")

    again = SentenceEncoder(packaged_model_path())
    assert np.array_equal(again.embed(TEXTS), expected)
    assert kept.stat().st_size > 1_000_000


def test_a_cache_folder_that_cannot_be_written_changes_nothing_but_the_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("PARLEZ_CACHE_DIR", str(blocked))
    encoder = SentenceEncoder(packaged_model_path())
    vectors = encoder.embed(TEXTS)
    assert vectors.shape == (3, 384)
    assert encoder.embed([]).shape == (0, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_changed_encoder_or_torch_gets_another_file(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    folder = tmp_path / "encoder"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"1")
    before = compiled_path(folder, "mean")
    assert before.parent == cache / "encoders"
    assert compiled_path(folder, "cls") != before  # pooled another way
    os.utime(weights, ns=(1, 1))
    assert compiled_path(folder, "mean") != before  # new weights
    changed = compiled_path(folder, "mean")
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1")  # another exporter
    assert compiled_path(folder, "mean") != changed


def test_the_cache_folder_follows_xdg_without_its_own_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARLEZ_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "parlez"


def test_the_word_pieces_are_transformers_own_without_importing_it() -> None:
    """The `tokenizers` library reads tokenizer.json as transformers' fast tokenizer does,
    padding and truncation included."""
    from transformers import AutoTokenizer

    path = packaged_model_path()
    reference = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    texts = [
        "Crème brûlée à l'été",
        "Größe über 😀 emoji",
        "word " * 400,  # cut at MAX_PIECES
        "",
        "  spaced   out ",
        "what's the price of a cut & colour?",
    ]
    want = reference(
        texts,
        padding=True,
        truncation=True,
        max_length=MAX_PIECES,
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    got = SentenceEncoder(packaged_model_path()).tokenizer(texts, offsets=True)
    assert got.ids.shape == (len(texts), MAX_PIECES)
    assert got.offsets is not None
    assert np.array_equal(got.ids, want["input_ids"].numpy())
    assert np.array_equal(got.mask, want["attention_mask"].numpy())
    assert np.array_equal(got.offsets, want["offset_mapping"].numpy())


def test_an_encoder_of_the_projects_own_is_tokenized_by_transformers(tmp_path: Path) -> None:
    """Its tokenizer class may change what its tokenizer.json says (lower case, accents)."""
    folder = tmp_path / "my-encoder"
    folder.mkdir()
    for file in packaged_model_path().iterdir():
        if file.is_file():
            (folder / file.name).symlink_to(file)
    own = SentenceEncoder(folder).tokenizer
    assert own._auto is not None and own._fast is None
    assert SentenceEncoder(packaged_model_path()).tokenizer._fast is not None
    same = own(TEXTS, offsets=True)
    assert np.array_equal(same.ids, SentenceEncoder(packaged_model_path()).tokenizer(TEXTS).ids)


def test_an_encoder_that_cannot_be_exported_runs_in_torch_with_the_same_meaning(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's own encoder may hold operators ONNX has none for."""
    import torch

    exported = SentenceEncoder(packaged_model_path()).embed(TEXTS)

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Unsupported: ONNX export of operator my_op")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    monkeypatch.setenv("PARLEZ_CACHE_DIR", str(cache / "another"))
    eager = SentenceEncoder(packaged_model_path())
    assert ((eager.embed(TEXTS) * exported).sum(1) >= WEIGHT_COSINE).all()  # unit vectors
    assert eager._session is False
    assert kept_files(cache / "another") == []


def eager_vectors(texts: list[str]) -> np.ndarray:
    """The packaged encoder's vectors computed by transformers in torch, with float weights."""
    eager = SentenceEncoder(packaged_model_path())
    eager._session = False
    return eager.embed(texts)


def test_the_kept_encoder_has_its_weights_in_8_bits_and_their_vectors_mean_the_same(
    cache: Path,
) -> None:
    import onnx

    vectors = SentenceEncoder(packaged_model_path()).embed(TEXTS)
    (kept,) = kept_files(cache)
    assert "MatMulNBits" in {node.op_type for node in onnx.load(kept).graph.node}
    floats = eager_vectors(TEXTS)
    assert ((floats * vectors).sum(1) >= WEIGHT_COSINE).all()  # unit vectors: cosines
    assert not np.allclose(floats, vectors, atol=1e-5)


def test_without_the_quantizer_the_float_export_is_kept_with_the_eager_numbers(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnx

    import parlez.nlu.models.onnx_graph

    def missing(exported: bytes) -> bytes:
        raise ImportError("No module named 'onnx_ir'")

    monkeypatch.setattr(parlez.nlu.models.onnx_graph, "in_8_bit_blocks", missing)
    vectors = SentenceEncoder(packaged_model_path()).embed(TEXTS)
    (kept,) = kept_files(cache)
    assert "MatMulNBits" not in {node.op_type for node in onnx.load(kept).graph.node}
    assert np.allclose(eager_vectors(TEXTS), vectors, atol=1e-5)


def test_a_mapped_file_gives_back_its_arrays_as_views_of_the_file_not_copies(
    tmp_path: Path,
) -> None:
    table = np.arange(64 * 512, dtype=np.uint8).reshape(64, 512)
    value = {"table": table, "scale": np.linspace(0, 1, 17, dtype=np.float32), "name": "use"}
    path = tmp_path / "kept.mapped"
    keep_mapped(value, path)

    loaded = load_mapped(path)
    assert loaded["name"] == "use"
    assert np.array_equal(loaded["table"], table)
    assert np.array_equal(loaded["scale"], value["scale"])
    assert not loaded["table"].flags.owndata and not loaded["table"].flags.writeable
    assert loaded["table"].ctypes.data % 64 == 0


def test_a_mapped_file_cut_short_is_refused_so_that_it_is_made_again(tmp_path: Path) -> None:
    path = tmp_path / "kept.mapped"
    keep_mapped({"table": np.ones((1000, 512), np.uint8)}, path)
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(ValueError, match="cut short"):
        load_mapped(path)


def aged(path: Path, days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(b"kept")
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


def test_a_kept_file_unused_for_a_month_while_another_of_its_encoder_was_is_removed(
    cache: Path,
) -> None:
    folder = encoders_dir()
    loaded = folder / "use-multilingual-0123456789abcdef0123.mapped"
    keep_mapped({"table": np.ones((4, 8), np.uint8)}, loaded)
    aged(loaded, 40)  # made long ago, but loaded now: it stays, marked as used
    upgraded_away = aged(folder / "use-multilingual-fedcba9876543210fedc.pickle", 31)
    other_install = aged(folder / "use-multilingual-00112233445566778899.mapped", 20)
    alone = aged(folder / "encoder-00112233445566778899.onnx", 400)  # an old image's: its only one
    died_writing = aged(folder / "tmp1x2y3z.part", 2)
    being_written = aged(folder / "tmp4a5b6c.part", 0.01)

    load_mapped(loaded)

    assert sorted(folder.iterdir()) == sorted([loaded, other_install, alone, being_written])
    assert time.time() - loaded.stat().st_mtime < 3600
    assert not upgraded_away.exists() and not died_writing.exists()


def test_a_mapped_file_outside_the_cache_and_its_folder_are_left_as_they_are(
    tmp_path: Path, cache: Path
) -> None:
    path = tmp_path / "kept.mapped"
    keep_mapped({"table": np.ones((4, 8), np.uint8)}, path)
    aged(path, 40)
    neighbour = aged(tmp_path / "notes.txt", 400)

    load_mapped(path)

    assert neighbour.exists()
    assert time.time() - path.stat().st_mtime > 39 * 86400
