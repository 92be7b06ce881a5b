"""Memory freed during training goes back to the system."""

from __future__ import annotations

import sys

import pytest

from parlez.memory import _trim, release_freed_memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or _trim() is None, reason="glibc's malloc_trim only"
)
def test_scattered_freed_blocks_are_returned_to_the_system() -> None:
    # Blocks below malloc's mmap threshold, every tenth kept: the freed ones are scattered
    # between live ones, as a training loop's batches leave them.
    blocks = [bytearray(48_000) for _ in range(6_000)]
    for block in blocks:
        block[::4096] = b"x" * len(block[::4096])  # touch every page
    kept = blocks[::10]
    del blocks
    before = _rss_mb()
    release_freed_memory()
    assert _rss_mb() < before - 100
    assert len(kept) == 600


def test_releasing_when_nothing_was_freed_is_harmless() -> None:
    release_freed_memory()
    release_freed_memory()
