"""`state.json`: the learned state of a component or policy that is plain JSON data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


def write_state(folder: Path, state: dict[str, Any]) -> None:
    """Write `state` into `folder` (nothing when there is nothing learned)."""
    if state:
        (folder / STATE_FILE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")


def read_state(folder: Path) -> dict[str, Any] | None:
    path = folder / STATE_FILE
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state
