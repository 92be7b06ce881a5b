"""Moved to parlez.training_data.example (the class is `Example`, so that it is not mistaken
for the NLU's `parlez.nlu.message.Message`); this path works, with a warning, for one more
release."""

from __future__ import annotations

from typing import Any

from parlez.deprecation import moved


def __getattr__(name: str) -> Any:
    return moved(__name__, name)  # the names that moved: parlez/deprecation.py
