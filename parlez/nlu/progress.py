"""Training progress: components report epochs here; the CLI shows them as a progress bar."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

logger = logging.getLogger(__name__)

Listener = Callable[[str, int, int, dict[str, float]], None]
_listener: ContextVar[Listener | None] = ContextVar("parlez_progress", default=None)
#: where a line a component says about its training goes (that it stopped early)
_notes: ContextVar[Callable[[str], None] | None] = ContextVar("parlez_notes", default=None)


def report_epoch(component: str, epoch: int, epochs: int, metrics: dict[str, float]) -> None:
    listener = _listener.get()
    if listener is not None:
        listener(component, epoch, epochs, metrics)
    else:
        logger.debug("%s epoch %d/%d %s", component, epoch, epochs, metrics)


def report_note(text: str) -> None:
    """A line about a component's training, shown with its progress (logged without)."""
    notes = _notes.get()
    if notes is not None:
        notes(text)
    else:
        logger.info("%s", text)


@contextmanager
def listen(listener: Listener, notes: Callable[[str], None] | None = None) -> Iterator[None]:
    token = _listener.set(listener)
    noted = _notes.set(notes)
    try:
        yield
    finally:
        _notes.reset(noted)
        _listener.reset(token)


#: the settings of early stopping, as DIETClassifier and TEDPolicy take them
EARLY_STOPPING_DEFAULTS = {
    # stop once the training has converged (false: every configured epoch)
    "early_stopping": True,
    # converged: every training example right, and the loss under this...
    "early_stopping_loss": 0.01,
    # ...for this many epochs in a row
    "early_stopping_patience": 5,
}


class Convergence:
    """Whether a training has converged: each of `patience` epochs in a row had every
    training example right (accuracy 1) and a mean loss under `loss`. Training on after
    that changes the weights and not what the model says about its own data: TEDPolicy sat
    at a loss of 0.000 for 80 of its 100 epochs on the assistant."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.on = bool(config.get("early_stopping", True))
        self.loss = float(config.get("early_stopping_loss", 0.01))
        self.patience = int(config.get("early_stopping_patience", 5))
        self._calm = 0

    def converged(self, component: str, epoch: int, epochs: int, loss: float, acc: float) -> bool:
        """After an epoch: True when the training should stop here (and says so)."""
        if not self.on or epoch >= epochs:
            return False
        self._calm = self._calm + 1 if acc >= 1.0 and loss < self.loss else 0
        if self._calm < self.patience:
            return False
        report_note(
            f"{component}: every training example right and the loss under {self.loss} for "
            f"{self.patience} epochs: stopped at epoch {epoch} of {epochs} "
            "(early_stopping: false trains them all)"
        )
        return True
