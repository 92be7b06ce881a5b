"""Moved to parlez.channels.credentials (and the registry to parlez.registry.channels); this
path works, with a warning, for one more release."""

from __future__ import annotations

from typing import Any

from parlez.deprecation import moved


def __getattr__(name: str) -> Any:
    return moved(__name__, name)  # the names that moved: parlez/deprecation.py
