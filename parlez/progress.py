"""How a training goes, step by step: the NLU's components and the policies, each told as it
starts, so that a person waiting (the console's retraining) sees more than "training...".

A training in another process tells its steps through a file of JSON lines
(`ProgressFile`): one line per step, appended and flushed as it starts, read by the server
while it waits. A file needs no shared memory and survives the child process crashing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: a step starting: its name, its number from 1, how many steps there are
StepProgress = Callable[[str, int, int], None]

#: the steps of a part that were not trained: its trained part was reused
REUSED = "reused"
#: the part is trained
DONE = "done"


@dataclass(frozen=True)
class Step:
    """Where one part of a training is: `part` is "nlu", "core" or "knowledge"."""

    part: str
    step: str
    number: int = 0
    total: int = 0
    at: float = 0.0


class ProgressFile:
    """The steps of one training, written by the process that trains and read by the one
    that waits."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def tell(self, part: str, step: str, number: int = 0, total: int = 0) -> None:
        line = json.dumps(
            {"part": part, "step": step, "number": number, "total": total, "at": time.time()}
        )
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as error:
            # Nobody reads it any more (the waiting server stopped): the training goes on.
            logger.debug("training progress not written to %s: %s", self.path, error)

    def for_part(self, part: str) -> StepProgress:
        """`tell` for the steps of `part`, in the shape a pipeline or an ensemble calls."""
        return lambda step, number, total: self.tell(part, step, number, total)

    def latest(self) -> list[Step]:
        """Each part's latest step, in the order the parts began (a line being written is
        not read yet)."""
        if not self.path.is_file():
            return []
        latest: dict[str, Step] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
                latest[str(raw["part"])] = Step(
                    str(raw["part"]),
                    str(raw["step"]),
                    int(raw["number"]),
                    int(raw["total"]),
                    float(raw["at"]),
                )
            except (ValueError, KeyError, TypeError):
                continue  # the last line, half written
        return list(latest.values())
