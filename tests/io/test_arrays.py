"""A trained part's arrays: written as safetensors (read without numpy's ast-parsed headers),
and the numpy files of models saved before still read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parlez.io.arrays import load_arrays, save_arrays


def test_arrays_come_back_as_they_were_written(tmp_path: Path) -> None:
    coef = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # not contiguous
    save_arrays(tmp_path / "weights.safetensors", {"coef": coef, "bias": np.zeros(2)})
    loaded = load_arrays(tmp_path / "weights.safetensors")
    assert np.array_equal(loaded["coef"], coef) and loaded["coef"].dtype == np.float32
    assert np.array_equal(loaded["bias"], np.zeros(2))


def test_a_model_saved_before_is_read_from_its_numpy_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "weights.npz", coef=np.ones((2, 2)))
    assert np.array_equal(load_arrays(tmp_path / "weights.safetensors")["coef"], np.ones((2, 2)))
    np.save(tmp_path / "vectors.npy", np.eye(3))
    assert np.array_equal(load_arrays(tmp_path / "vectors.safetensors")["vectors"], np.eye(3))
