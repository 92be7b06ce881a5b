"""Conversations written as Rasa stories (YAML): for test stories that failed, a stored
conversation (`GET /conversations/<id>/story`) and `parlez interactive`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from parlez.events import ACTION_LISTEN, ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from parlez.training_data.stories import FULL_RETRIEVAL_INTENT

#: one step of a story: its event, and what the assistant predicted instead (None: right)
StoryStep = tuple[Event, str | None]
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
    return (
        json.dumps(text, ensure_ascii=False)
        if any(c in text for c in ":#{}[]&*!|>'\"%@`,")
        else text
    )


def _step_lines(event: Event, predicted: str | None, by_intent: bool = False) -> list[str]:
    note = f"  # predicted: {predicted}" if predicted is not None else ""
    if isinstance(event, UserUttered):
        lines = []
        # a test step's full retrieval intent (`chitchat/ask_name`) is written back whole
        intent = (event.intent or {}).get(FULL_RETRIEVAL_INTENT) or event.intent_name
        as_text = bool(event.text) and not (by_intent and intent)
        if as_text:
            lines.append(f"  - user: |-\n      {event.text}")
            if intent:
                lines.append(f"    intent: {intent}{note}")
        elif intent:
            lines.append(f"  - intent: {intent}{note}")
        # entities go with an intent; a text step carries them in its words
        if event.entities and lines and not as_text:
            lines.append("    entities:")
            lines += [
                f"    - {e.get('entity')}: {_quote(str(e.get('value')))}" for e in event.entities
            ]
        return lines
    if isinstance(event, ActionExecuted):
        if event.action_name == ACTION_LISTEN:
            return []
        if event.action_name:
            return [f"  - action: {event.action_name}{note}"]
        return [f"  - bot: {_quote(event.action_text or '')}{note}"]
    if isinstance(event, ActiveLoop):
        return [f"  - active_loop: {event.name if event.name else 'null'}"]
    if isinstance(event, SlotSet):
        return [
            "  - slot_was_set:",
            f"    - {event.key}: {json.dumps(event.value, ensure_ascii=False)}",
        ]
    return []
