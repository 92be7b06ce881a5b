"""Giving memory that training freed back to the operating system.

glibc's malloc keeps freed blocks for reuse, and the many differently sized tensors of a
training loop (batches grow from 64 to 256 messages, each of its own length) leave them
too scattered to reuse: on SNIPS, DIETClassifier's process grew by 1.5 GB over 40 epochs
while its live data stayed the same. Trimming after each epoch held it flat (818 -> 855 MB
over 12 epochs on 3,000 examples, against 896 -> 1,352 MB without).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _trim() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only: musl has no malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return the C heap's free pages to the system, where the C library can (glibc)."""
    trim = _trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
