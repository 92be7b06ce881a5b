"""The sentence encoders made ready once per machine, so a process starts in less time.

Loading the packaged encoder through transformers takes seconds before the first message is
parsed: importing transformers alone took 2.2-2.9 s here, and exporting the model to ONNX
another two. An exported encoder is a file ONNX Runtime opens on its own in about 0.2 s; with
the tokenizer read by the `tokenizers` library (which transformers uses underneath) nothing
of transformers is imported at all. So the first process to export an encoder keeps the file
here, and the next ones load it. The multilingual encoder is kept the same way, as it is once
loaded (parlez.knowledge.multilingual), its arrays laid out after it so that a process maps
them from the file (`keep_mapped`) instead of reading and copying 65 MB: processes on one
machine then share one copy in the page cache.

A file is used only for what it was made from: its name is a hash of the library versions,
the encoder's files (their sizes and times) and how parlez uses it. A file that cannot be
read is made again and replaced; a cache folder that cannot be written leaves every start as
slow as before, and nothing else changes. What is here is loaded as code would be (an ONNX
graph, a pickle): the folder is the user's own, as Python's packages are.

Each file is 60-90 MB, and an upgrade of parlez, torch or NumPy makes a new one of the same
encoder beside the old. Each load marks its file as used, and a file last used
`UNUSED_DAYS` before another of the same encoder was is removed: what an upgrade left
behind goes a month later, two installs that share the folder keep theirs while both are
used, and the files of an image built long ago are not taken for unused on its first start.
A `.part` file a process died while writing goes after a day.

Where: `PARLEZ_CACHE_DIR`, else `$XDG_CACHE_HOME/parlez`, else `~/.cache/parlez`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import pickle
import struct
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from parlez.inference import ONNX_OPSET, open_session

logger = logging.getLogger(__name__)

#: bump when what is kept changes, so old files are not loaded for new code
FORMAT = 2
#: a mapped file's start: its mark, the pickle's length and how many arrays follow it
_MAPPED_HEADER = struct.Struct("<8sQQ")
_MAPPED_MARK = b"parlezm1"
#: where each array starts and how long it is
_MAPPED_ENTRY = struct.Struct("<QQ")
#: arrays start on cache-line boundaries
_ALIGNMENT = 64
#: a kept file last loaded this long before another of the same encoder was is removed
UNUSED_DAYS = 30
#: a file half written by a process that died while keeping it (`keep`) is removed after this
PART_DAYS = 1
#: how the exported encoder keeps its weights: in 8 bits where they pass their check
#: (parlez/nlu/encoder.py); the features change with it, so an NLU trained on others is
#: trained again (parlez/training.py)
ENCODER_WEIGHTS = "8-bit blocks of 128"
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
    return encoders_dir() / f"{name}-{digest}{suffix}"


def encoders_dir() -> Path:
    """Where the encoders are kept (`cached_path`), and pruned (`prune`)."""
    return cache_dir() / "encoders"


def compiled_path(folder: Path, pooling: str) -> Path:
    """Where the exported encoder of `folder` is kept (whether or not it is there yet)."""
    from importlib.metadata import version

    return cached_path(
        "encoder",
        [version("torch"), ONNX_OPSET, pooling, ENCODER_WEIGHTS],
        (folder / name for name in _WEIGHTS),
        ".onnx",
    )


def load_compiled(path: Path) -> Any | None:
    """The exported encoder saved at `path`, ready for inference; None when there is none or
    it cannot be read (it is exported again then)."""
    if not path.is_file():
        return None
    try:
        session = open_session(path)
    except Exception as error:  # truncated by a full disk, or made by another build
        logger.info("the compiled encoder %s cannot be read (%s): exporting it again", path, error)
        return None
    used(path)
    return session


def keep(data: bytes | bytearray, path: Path) -> None:
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
    if path.parent == encoders_dir():
        prune()


def used(path: Path) -> None:
    """Mark `path`, when it is a kept encoder, as loaded now, and prune the cache."""
    if path.parent != encoders_dir():  # a file of the caller's own: not ours to touch
        return
    try:
        os.utime(path)
    except OSError:  # a read-only cache folder: nothing is removed from it either
        return
    prune()


def prune() -> None:
    """Remove the kept files last used `UNUSED_DAYS` before another of the same encoder (the
    name before its hash) was, and the `.part` files older than `PART_DAYS`."""
    now = time.time()
    try:
        entries = [e for e in os.scandir(encoders_dir()) if e.is_file(follow_symlinks=False)]
    except OSError:
        return
    stale: list[str] = []
    kinds: dict[str, list[tuple[float, str]]] = {}
    for entry in entries:
        try:
            used_at = entry.stat(follow_symlinks=False).st_mtime
        except OSError:  # removed by another process meanwhile
            continue
        if entry.name.endswith(".part"):
            if now - used_at > PART_DAYS * 86400:
                stale.append(entry.path)
        elif "-" in entry.name:
            kinds.setdefault(entry.name.rsplit("-", 1)[0], []).append((used_at, entry.path))
    for files in kinds.values():
        last = max(used_at for used_at, _ in files)
        stale.extend(path for used_at, path in files if last - used_at > UNUSED_DAYS * 86400)
    for path in stale:
        try:
            os.unlink(path)
        except OSError:
            continue
        logger.info("removed %s from the cache: no longer used", Path(path).name)


def keep_mapped(value: Any, path: Path) -> None:
    """Keep `value` at `path` as `load_mapped` reads it: a pickle whose arrays (anything
    that pickles its buffers out of band, as NumPy's arrays do) are written after it."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    start = _MAPPED_HEADER.size + _MAPPED_ENTRY.size * len(raws)
    entries, offset = [], _aligned(start + len(body))
    for raw in raws:
        entries.append((offset, raw.nbytes))
        offset = _aligned(offset + raw.nbytes)
    out = bytearray(offset)
    _MAPPED_HEADER.pack_into(out, 0, _MAPPED_MARK, len(body), len(raws))
    for number, entry in enumerate(entries):
        _MAPPED_ENTRY.pack_into(out, _MAPPED_HEADER.size + _MAPPED_ENTRY.size * number, *entry)
    out[start : start + len(body)] = body
    for (at, size), raw in zip(entries, raws, strict=True):
        out[at : at + size] = raw
    keep(out, path)  # not copied to bytes: 85 MB for the multilingual encoder


def load_mapped(path: Path) -> Any:
    """What `keep_mapped` kept at `path`, its arrays read-only views of the mapped file.
    Raises what a file that is not one (cut short, or made by other code) gives: the caller
    makes it again."""
    with path.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    mark, body_size, count = _MAPPED_HEADER.unpack_from(view)
    if mark != _MAPPED_MARK:
        raise ValueError(f"{path.name} is not a mapped file")
    entries = [
        _MAPPED_ENTRY.unpack_from(view, _MAPPED_HEADER.size + _MAPPED_ENTRY.size * number)
        for number in range(count)
    ]
    start = _MAPPED_HEADER.size + _MAPPED_ENTRY.size * count
    if any(at + size > len(view) for at, size in entries):
        raise ValueError(f"{path.name} is cut short")
    buffers = [view[at : at + size] for at, size in entries]
    value = pickle.loads(view[start : start + body_size], buffers=buffers)
    used(path)
    return value


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGNMENT) * _ALIGNMENT
