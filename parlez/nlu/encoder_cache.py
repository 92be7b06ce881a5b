"""The sentence encoders made ready once per machine, so a process starts in less time.

Loading the packaged encoder through transformers takes seconds before the first message is
parsed: importing transformers alone took 2.2-2.9 s here, and exporting the model to ONNX
another two. An exported encoder is a file ONNX Runtime opens on its own in about 0.2 s; with
the tokenizer read by the `tokenizers` library (which transformers uses underneath) nothing
of transformers is imported at all. So the first process to export an encoder keeps the file
here, and the next ones load it. The multilingual encoder is kept the same way, as it is once
loaded (parlez.knowledge.multilingual).

A file is used only for what it was made from: its name is a hash of the library versions,
the encoder's files (their sizes and times) and how parlez uses it. A file that cannot be
read is made again and replaced; a cache folder that cannot be written leaves every start as
slow as before, and nothing else changes. What is here is loaded as code would be (an ONNX
graph, a pickle): the folder is the user's own, as Python's packages are.

Where: `PARLEZ_CACHE_DIR`, else `$XDG_CACHE_HOME/parlez`, else `~/.cache/parlez`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from parlez.inference import ONNX_OPSET, open_session

logger = logging.getLogger(__name__)

#: bump when what is kept changes, so old files are not loaded for new code
FORMAT = 2
#: the files of an encoder folder whose change makes its export stale
_WEIGHTS = ("config.json", "model.safetensors", "pytorch_model.bin")


def cache_dir() -> Path:
    """The folder parlez keeps what it can rebuild in."""
    explicit = os.environ.get("PARLEZ_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "parlez"


def cached_path(name: str, key: list[Any], files: Iterable[Path], suffix: str) -> Path:
    """Where what is made from `files` (and what `key` says of how) is kept."""
    stamps = []
    for path in sorted(files):
        if path.is_file():
            status = path.stat()
            stamps.append((str(path.resolve()), status.st_size, status.st_mtime_ns))
    text = json.dumps([FORMAT, key, stamps], sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    return cache_dir() / "encoders" / f"{name}-{digest}{suffix}"


def compiled_path(folder: Path, pooling: str) -> Path:
    """Where the exported encoder of `folder` is kept (whether or not it is there yet)."""
    from importlib.metadata import version

    return cached_path(
        "encoder",
        [version("torch"), ONNX_OPSET, pooling],
        (folder / name for name in _WEIGHTS),
        ".onnx",
    )


def load_compiled(path: Path) -> Any | None:
    """The exported encoder saved at `path`, ready for inference; None when there is none or
    it cannot be read (it is exported again then)."""
    if not path.is_file():
        return None
    try:
        return open_session(path)
    except Exception as error:  # truncated by a full disk, or made by another build
        logger.info("the compiled encoder %s cannot be read (%s): exporting it again", path, error)
        return None


def keep(data: bytes, path: Path) -> None:
    """Keep `data` at `path`, written whole or not at all, so a process starting beside this
    one never reads half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as error:  # a read-only home: every start loads as before
        logger.info("%s could not be kept in %s: %s", path.name, path.parent, error)
        return
    logger.info("kept %s: the next start loads it", path)
