"""Conversations written as Rasa stories (YAML): for test stories that failed, a stored
conversation (`GET /conversations/<id>/story`) and `parlez interactive`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from parlez.events import (
    ACTION_LISTEN,
    ACTION_UNLIKELY_INTENT,
    ActionExecuted,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from parlez.exceptions import ParlezError
from parlez.io.yaml import UNWRITABLE, double_quoted, read_yaml
from parlez.tracker import ACTION_SESSION_START
from parlez.training_data.stories import FULL_RETRIEVAL_INTENT

#: one step of a story: its event, and what the assistant predicted instead (None: right)
StoryStep = tuple[Event, str | None]
#: Actions the assistant runs on its own and a story never names, as Rasa's writer leaves
#: them out: a story that said `action_unlikely_intent` would teach the policies to predict
#: it as they predict the designer's actions.
UNWRITTEN = frozenset({ACTION_LISTEN, ACTION_SESSION_START, ACTION_UNLIKELY_INTENT})
#: the list each kind of story is written in
LISTS = {"story": "stories", "rule": "rules"}


def stories_yaml(
    stories: Iterable[tuple[str, Sequence[StoryStep]]],
    kind: str = "story",
    by_intent: bool = False,
) -> str:
    """Named stories (or rules: `kind="rule"`) as YAML, a `# predicted: ...` comment on each
    step predicted wrongly. A customer's message is written with its text (a test story's
    form), or as its intent and entities when `by_intent` (a training story's form)."""
    lines = ['version: "3.1"', f"{LISTS[kind]}:"]
    for name, steps in stories:
        lines.append(f"- {kind}: {_quote(name)}")
        lines.append("  steps:")
        for event, predicted in steps:
            lines += _step_lines(event, predicted, by_intent)
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """`text` as a YAML scalar that reads back as this string: plain where it can be, else
    quoted (a name with `: `, an entity value `2`, `true` or `null`, a control character)."""
    if (
        text
        and not any(c in text for c in ":#{}[]&*!|>'\"%@`,\n\r\t")
        and text == text.strip()
        and not UNWRITABLE.search(text)
    ):
        try:
            if read_yaml(text) == text:
                return text
        except ParlezError:
            pass
    return double_quoted(text)


def _message(text: str) -> str:
    """A customer's words as a block (`|-`), each of its lines indented under it; quoted
    where a block would change them (spaces at either end, a control character)."""
    if text != text.strip() or "\r" in text or UNWRITABLE.search(text):
        return double_quoted(text)
    return "|-\n" + "\n".join(f"      {line}" if line else "" for line in text.split("\n"))


def _step_lines(event: Event, predicted: str | None, by_intent: bool = False) -> list[str]:
    note = f"  # predicted: {predicted}" if predicted is not None else ""
    if isinstance(event, UserUttered):
        lines = []
        # a test step's full retrieval intent (`chitchat/ask_name`) is written back whole
        intent = (event.intent or {}).get(FULL_RETRIEVAL_INTENT) or event.intent_name
        as_text = bool(event.text) and not (by_intent and intent)
        if as_text:
            lines.append(f"  - user: {_message(event.text or '')}")
            if intent:
                lines.append(f"    intent: {_quote(intent)}{note}")
        elif intent:
            lines.append(f"  - intent: {_quote(intent)}{note}")
        # entities go with an intent; a text step carries them in its words
        if event.entities and lines and not as_text:
            lines.append("    entities:")
            lines += [
                f"    - {_quote(str(e.get('entity')))}: {_quote(str(e.get('value')))}"
                for e in event.entities
            ]
        return lines
    if isinstance(event, ActionExecuted):
        if event.action_name in UNWRITTEN:
            return []
        if event.action_name:
            return [f"  - action: {_quote(event.action_name)}{note}"]
        return [f"  - bot: {_quote(event.action_text or '')}{note}"]
    if isinstance(event, ActiveLoop):
        return [f"  - active_loop: {_quote(event.name) if event.name else 'null'}"]
    if isinstance(event, SlotSet):
        return [
            "  - slot_was_set:",
            f"    - {_quote(event.key)}: {json.dumps(event.value, ensure_ascii=False)}",
        ]
    return []
