"""The arrays a trained part keeps (weights, example vectors), in safetensors files like the
torch models' (DIET, TED).

numpy's own files (.npy, .npz) have a header that numpy reads with `ast.literal_eval`, and
CPython 3.11's `ast` is not safe in two threads at once (gh-106905, "AST constructor
recursion depth mismatch"): a model swapped in on the inference thread while the event
loop's thread compiled Sanic's routes failed that way in the suite. safetensors' header is
JSON. Files of models saved before (`<name>.npz`, `<name>.npy`) are still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """`arrays` in the safetensors file `path`."""
    save_file({name: np.ascontiguousarray(array) for name, array in arrays.items()}, str(path))


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """What `save_arrays` wrote at `path`; or, for a model saved before, the numpy file of
    the same name (`.npz`, or `.npy` as one array named after the file)."""
    if path.exists():
        return load_file(str(path))
    older = path.with_suffix(".npz")
    if older.exists():
        with np.load(older) as stored:
            return {name: stored[name] for name in stored.files}
    return {path.stem: np.load(path.with_suffix(".npy"))}
