"""A rich progress bar for training, fed by the components' epoch reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from parlez.nlu.progress import listen


@contextmanager
def training_progress(console: Console) -> Iterator[None]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_epoch(component: str, epoch: int, epochs: int, metrics: dict[str, float]) -> None:
            if component not in tasks:
                tasks[component] = progress.add_task(
                    f"{component} epochs", total=epochs, metrics=""
                )
            shown = "  ".join(f"{k} {v:.3f}" for k, v in metrics.items())
            progress.update(tasks[component], completed=epoch, metrics=shown)
            if not console.is_terminal and (epoch == epochs or epoch % max(epochs // 10, 1) == 0):
                console.print(f"{component} epoch {epoch}/{epochs}  {shown}")

        with listen(on_epoch):
            yield
