"""Training as the CLI shows it: each step as it starts (the NLU's components, the policies),
and a rich progress bar for the epochs of those that have them.

In a terminal the bars move; piped to a file, every line carries its time, and a line says
what is still training at least every `HEARTBEAT` seconds, so that a log never goes quiet
for minutes (a 100-epoch DIET on a slow machine).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from parlez.nlu.progress import listen
from parlez.progress import DONE, REUSED, Step, TrainingProgress

#: seconds between "still training" lines when the output is not a terminal
HEARTBEAT = 10.0
PARTS = {"nlu": "NLU", "core": "dialogue", "knowledge": "knowledge base"}


class ShownProgress(TrainingProgress):
    """The steps printed on `console`: in a terminal, as lines above the bars; otherwise
    with their time, and a heartbeat."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.last_line = time.monotonic()
        self._lock = threading.Lock()

    def told(self, step: Step) -> None:
        if step.epochs:
            return  # the epochs have their bar (or their own lines, below)
        self.say(_describe(step))

    def say(self, text: str) -> None:
        with self._lock:
            self.last_line = time.monotonic()
            if self.console.is_terminal:
                self.console.print(escape(text))
            else:
                self.console.print(f"[{time.strftime('%H:%M:%S')}] {escape(text)}")

    def heartbeat(self) -> None:
        """Say what is still training when nothing was said for `HEARTBEAT` seconds."""
        step = self.now
        if step is None or time.monotonic() - self.last_line < HEARTBEAT:
            return
        if step.epochs:
            self.say(f"still training {_describe(step)}: epoch {step.epoch} of {step.epochs}")
        elif step.step not in (DONE, REUSED):
            self.say(f"still training {_describe(step)} ({int(time.time() - step.at)} s)")


def _describe(step: Step) -> str:
    part = PARTS.get(step.part, step.part)
    if step.step == REUSED:
        return f"{part}: reused (nothing it learns from changed)"
    if step.step == DONE:
        return f"{part}: done"
    if step.total:
        return f"{part}: {step.step} ({step.number}/{step.total})"
    return f"{part}: {step.step}"


@contextmanager
def training_progress(console: Console) -> Iterator[ShownProgress]:
    """The progress to give `train`, shown on `console` while the block runs."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    shown = ShownProgress(console)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(1.0):
            shown.heartbeat()

    heart = threading.Thread(target=beat, name="training-heartbeat", daemon=True)
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_epoch(component: str, epoch: int, epochs: int, metrics: dict[str, float]) -> None:
            shown.epoch(component, epoch, epochs)
            if component not in tasks:
                tasks[component] = progress.add_task(
                    f"{component} epochs", total=epochs, metrics=""
                )
            metric = "  ".join(f"{k} {v:.3f}" for k, v in metrics.items())
            progress.update(tasks[component], completed=epoch, metrics=metric)
            if not console.is_terminal and (epoch == epochs or epoch % max(epochs // 10, 1) == 0):
                shown.say(f"{component} epoch {epoch}/{epochs}  {metric}")

        if not console.is_terminal:
            heart.start()
        try:
            with listen(on_epoch, notes=shown.say):
                yield shown
        finally:
            stop.set()
