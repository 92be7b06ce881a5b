"""What the person at the terminal types, for `parlez shell` and `parlez interactive`.

In a terminal, prompt_toolkit reads the line: arrows move and recall, Ctrl-R searches the
history, which is kept between sessions (`~/.parlez_history`, or `$PARLEZ_HISTORY`; an
empty value keeps none). Piped input (a script, a test) is read line by line as it comes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

HISTORY_ENV = "PARLEZ_HISTORY"


def history_file() -> Path | None:
    value = os.environ.get(HISTORY_ENV)
    if value is None:
        return Path.home() / ".parlez_history"
    return Path(value) if value else None


class LineReader:
    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self._session: Any = None

    def _prompt_session(self) -> Any:
        if self._session is None:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.history import FileHistory, InMemoryHistory

            path = history_file()
            history: Any = InMemoryHistory()
            if path is not None:
                try:
                    path.touch(exist_ok=True)
                    history = FileHistory(str(path))
                except OSError:
                    pass  # a read-only home: history for this session only
            self._session = PromptSession(history=history)
        return self._session

    async def read(self, prompt: str = "") -> str | None:
        """The next line without its newline; None at the end (Ctrl-D, end of input) or
        on Ctrl-C. `prompt` is shown in bold, in a terminal only; it is text, never markup
        (it may quote what a customer wrote)."""
        if not self.interactive:
            line = await asyncio.to_thread(sys.stdin.readline)
            return None if not line else line.rstrip("\n")
        from prompt_toolkit.formatted_text import FormattedText

        shown = FormattedText([("bold", prompt)])
        try:
            text: str = await self._prompt_session().prompt_async(shown)
        except (EOFError, KeyboardInterrupt):
            return None
        return text

    def read_sync(self, prompt: str = "") -> str | None:
        """`read`, outside an event loop."""
        return asyncio.run(self.read(prompt))
