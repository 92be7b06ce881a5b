"""Stories expanded into complete conversations: checkpoints joined, `or` alternatives split.

This is the data the dialogue policies learn from and what `data validate` checks for
conflicts. As in Rasa:
- a story that ends at a checkpoint no story starts from is a conversation that ends there
  (it is not dropped), and a story that starts at a checkpoint no story ends at is never
  reached; both are warned about (P151);
- a story starting at a checkpoint with `slot_was_set` continues only the conversations
  whose slots have those values there; one that no conversation reaches is warned about;
- a loop of checkpoints ("ask again") is not unrolled forever: a conversation goes through
  a story at most `MAX_REPEATS` times (round the loop once more, so that the policies learn
  it repeats), and ends where nothing else may follow. An explosion of `or` alternatives
  stops at `max_conversations`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from parlez.diagnostics import warn
from parlez.events import (
    ACTION_LISTEN,
    ActionExecuted,
    AllSlotsReset,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from parlez.exceptions import Location
from parlez.training_data.stories import StoryBlock

STORY_START = "STORY_START"
#: how often one story may recur in one conversation (a checkpoint loop, gone round twice)
MAX_REPEATS = 2


@dataclass
class Conversation:
    """One linear path through the stories, with the names of the blocks it went through."""

    events: list[Event] = field(default_factory=list)
    story_names: list[str] = field(default_factory=list)


@dataclass
class _Segment:
    """A run of steps between checkpoints, with the checkpoints it starts and ends at."""

    name: str
    start: list[str]
    end: list[str]
    paths: list[list[Event]]
    location: Location | None = None
    #: slot values each start checkpoint asks for
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def continues(self, checkpoint: str, slots: dict[str, Any]) -> bool:
        """Whether a conversation that reached `checkpoint` with `slots` goes on here."""
        wanted = self.conditions.get(checkpoint) or {}
        return all(slots.get(name) == value for name, value in wanted.items())


def _with_listens(events: list[Event], final_listen: bool) -> list[Event]:
    """Rasa's implicit `action_listen` before every user message (and at the end)."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, UserUttered) and not _is_listen(out[-1] if out else None):
            out.append(ActionExecuted(ACTION_LISTEN))
        out.append(event)
    if final_listen and not _is_listen(out[-1] if out else None):
        out.append(ActionExecuted(ACTION_LISTEN))
    return out


def _is_listen(event: Event | None) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN


def _slot_values(events: list[Event]) -> dict[str, Any]:
    """The slots the story events set, as they stand after them."""
    values: dict[str, Any] = {}
    for event in events:
        if isinstance(event, SlotSet):
            values[event.key] = event.value
        elif isinstance(event, (Restarted, AllSlotsReset, SessionStarted)):
            values.clear()
    return values


def _segments(block: StoryBlock) -> list[_Segment]:
    segments: list[_Segment] = []
    start: list[str] = []
    conditions: dict[str, dict[str, Any]] = {}
    paths: list[list[Event]] = [[]]
    pending_start = True
    for step in block.steps:
        if step.checkpoint is not None:
            if pending_start:
                start.append(step.checkpoint)
                if step.conditions:
                    conditions[step.checkpoint] = step.conditions
                continue
            # An end checkpoint's conditions say nothing: the story that starts there decides.
            segments.append(
                _Segment(
                    block.name,
                    start or [STORY_START],
                    [step.checkpoint],
                    paths,
                    step.location,
                    conditions,
                )
            )
            start, paths, pending_start = [step.checkpoint], [[]], True
            conditions = dict(step.conditions) if step.conditions else {}
            continue
        pending_start = False
        if step.alternatives:
            paths = [[*p, alt] for p in paths for alt in step.alternatives]
        else:
            paths = [p + step.events for p in paths]
    # A story that ends on a checkpoint has already closed its last segment there.
    if not pending_start or not segments:
        segments.append(
            _Segment(block.name, start or [STORY_START], [], paths, block.location, conditions)
        )
    return segments


def _warn_unmatched_checkpoints(segments: list[_Segment]) -> None:
    """Warn, as Rasa does, of checkpoints that only one side uses."""
    starts = {name for s in segments for name in s.start if name != STORY_START}
    ends = {name for s in segments for name in s.end}
    for segment in segments:
        for name in segment.end:
            if name not in starts:
                warn(
                    "P151",
                    f"the story '{segment.name}' ends at the checkpoint '{name}', which no story "
                    "starts from: it is trained as a conversation that ends there",
                    segment.location,
                    hint=f"start a story with '- checkpoint: {name}', or remove the checkpoint",
                )
        for name in segment.start:
            if name != STORY_START and name not in ends:
                warn(
                    "P151",
                    f"the story '{segment.name}' starts at the checkpoint '{name}', which no "
                    "story ends at: it is never reached, and not trained",
                    segment.location,
                    hint=f"end a story with '- checkpoint: {name}', or remove the checkpoint",
                )


def conversations(
    blocks: list[StoryBlock],
    max_conversations: int = 10_000,
    explicit: Callable[[list[Event]], list[Event]] | None = None,
) -> Iterator[Conversation]:
    """Every complete conversation the stories describe (rules are not stories).
    `explicit` adds what the stories leave implicit (the slots their entities fill) before
    a checkpoint's slot conditions are checked."""
    segments = [s for block in blocks if not block.is_rule for s in _segments(block)]
    _warn_unmatched_checkpoints(segments)
    by_start: dict[str, list[int]] = {}
    for index, segment in enumerate(segments):
        for name in segment.start:
            by_start.setdefault(name, []).append(index)
    # (the checkpoint reached, the conversation so far, how often it went through each segment)
    queue: list[tuple[str, Conversation, dict[int, int]]] = [(STORY_START, Conversation(), {})]
    reached: set[int] = set()
    produced = 0
    seen: set[tuple[str, int]] = set()
    while queue and produced < max_conversations:
        checkpoint, prefix, uses = queue.pop(0)
        following = [i for i in by_start.get(checkpoint, []) if uses.get(i, 0) < MAX_REPEATS]
        if any(segments[i].conditions.get(checkpoint) for i in following):
            slots = _slot_values(explicit(prefix.events) if explicit else prefix.events)
            following = [i for i in following if segments[i].continues(checkpoint, slots)]
        if not following and checkpoint != STORY_START:
            # Nothing goes on from here (no story starts at this checkpoint, none with these
            # slots, or a loop gone round): the conversation ends, waiting for the user.
            produced += 1
            yield Conversation(_with_listens(prefix.events, final_listen=True), prefix.story_names)
            continue
        for index in following:
            reached.add(index)
            segment = segments[index]
            went = {**uses, index: uses.get(index, 0) + 1}
            for path in segment.paths:
                events = prefix.events + _with_listens(path, final_listen=not segment.end)
                names = prefix.story_names + (
                    [segment.name] if segment.name not in prefix.story_names else []
                )
                if segment.end:
                    for end in segment.end:
                        key = (end, hash(tuple(repr(e) for e in events)))
                        if key not in seen and len(seen) < max_conversations:
                            seen.add(key)
                            queue.append((end, Conversation(events, names), went))
                    continue
                produced += 1
                yield Conversation(events, names)
                if produced >= max_conversations:
                    return
    if not queue:
        _warn_unreached(segments, reached)


def _warn_unreached(segments: list[_Segment], reached: set[int]) -> None:
    """A story whose checkpoint conversations reach, but never with the slots it asks for."""
    ends = {name for segment in segments for name in segment.end}
    for index, segment in enumerate(segments):
        if index in reached or not segment.conditions:
            continue
        if not any(name in ends for name in segment.start):
            continue  # never reached by name: said already
        asked = "; ".join(
            f"'{name}' with {', '.join(f'{k}={v!r}' for k, v in wanted.items())}"
            for name, wanted in segment.conditions.items()
        )
        warn(
            "P151",
            f"the story '{segment.name}' starts at the checkpoint {asked}, which no "
            "conversation reaches with those slot values: it is never reached, and not trained",
            segment.location,
            hint="set the slots with 'slot_was_set' before the checkpoint, or change the condition",
        )
