"""How a training goes, step by step: the NLU's components and the policies, each told as it
starts (and the epochs of those that have them: `parlez.nlu.progress`), so that a person
waiting sees more than "training...".

`TrainingProgress` is told the steps. Two kinds tell them on:
- `ProgressFile`, for a training in another process (the console's retraining): a file of
  JSON lines, one per step or epoch, appended as it happens and read by the server while it
  waits. A file needs no shared memory and survives the child process crashing.
- the CLI's reporter (`parlez.cli.progress`), which prints them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    """Where one part of a training is: `part` is "nlu", "core" or "knowledge"; `epoch` of
    `epochs` when the step trains in epochs (DIET, TED)."""

    part: str
    step: str
    number: int = 0
    total: int = 0
    at: float = 0.0
    epoch: int = 0
    epochs: int = 0


class TrainingProgress:
    """Told each step of a training as it starts; `now` is the latest."""

    def __init__(self) -> None:
        self.now: Step | None = None

    def tell(self, part: str, step: str, number: int = 0, total: int = 0) -> None:
        self.now = Step(part, step, number, total, time.time())
        self.told(self.now)

    def epoch(self, component: str, epoch: int, epochs: int) -> None:
        """An epoch of the step under way ended (the shape `parlez.nlu.progress` reports)."""
        if self.now is not None and self.now.step == component:
            self.now = replace(self.now, at=time.time(), epoch=epoch, epochs=epochs)
            self.told(self.now)

    def for_part(self, part: str) -> StepProgress:
        """`tell` for the steps of `part`, in the shape a pipeline or an ensemble calls."""
        return lambda step, number, total: self.tell(part, step, number, total)

    def told(self, step: Step) -> None:
        """Pass `step` on: what each kind of progress is for."""


class ProgressFile(TrainingProgress):
    """The steps of one training, written by the process that trains and read by the one
    that waits."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def told(self, step: Step) -> None:
        line = json.dumps(step.__dict__)
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as error:
            # Nobody reads it any more (the waiting server stopped): the training goes on.
            logger.debug("training progress not written to %s: %s", self.path, error)

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
                    int(raw.get("epoch", 0)),
                    int(raw.get("epochs", 0)),
                )
            except (ValueError, KeyError, TypeError):
                continue  # the last line, half written
        return list(latest.values())
