"""Stories expanded into complete conversations: checkpoints joined, `or` alternatives split.

This is the data the dialogue policies learn from and what `data validate` checks for
conflicts. Expansion is bounded: a checkpoint cycle or an explosion of alternatives stops at
`max_conversations` instead of running forever. As in Rasa, a story that ends at a checkpoint
no story starts from is a conversation that ends there (it is not dropped), and a story that
starts at a checkpoint no story ends at is never reached; both are warned about (P151).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from parlez.diagnostics import warn
from parlez.events import ACTION_LISTEN, ActionExecuted, Event, UserUttered
from parlez.exceptions import Location
from parlez.training_data.stories import StoryBlock

STORY_START = "STORY_START"


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


def _segments(block: StoryBlock) -> list[_Segment]:
    segments: list[_Segment] = []
    start: list[str] = []
    paths: list[list[Event]] = [[]]
    pending_start = True
    for step in block.steps:
        if step.checkpoint is not None:
            if pending_start:
                start.append(step.checkpoint)
                continue
            segments.append(
                _Segment(
                    block.name, start or [STORY_START], [step.checkpoint], paths, step.location
                )
            )
            start, paths, pending_start = [step.checkpoint], [[]], True
            continue
        pending_start = False
        if step.alternatives:
            paths = [[*p, alt] for p in paths for alt in step.alternatives]
        else:
            paths = [p + step.events for p in paths]
    # A story that ends on a checkpoint has already closed its last segment there.
    if not pending_start or not segments:
        segments.append(_Segment(block.name, start or [STORY_START], [], paths, block.location))
    return segments


def _unmatched_checkpoints(segments: list[_Segment]) -> set[str]:
    """Warn, as Rasa does, of checkpoints that only one side uses; the end checkpoints that
    no story starts from (their conversations end there)."""
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
    return {name for name in ends if name not in starts}


def conversations(
    blocks: list[StoryBlock], max_conversations: int = 10_000
) -> Iterator[Conversation]:
    """Every complete conversation the stories describe (rules are not stories)."""
    segments = [s for block in blocks if not block.is_rule for s in _segments(block)]
    dead_ends = _unmatched_checkpoints(segments)
    by_start: dict[str, list[_Segment]] = {}
    for segment in segments:
        for name in segment.start:
            by_start.setdefault(name, []).append(segment)
    queue: list[tuple[str, Conversation]] = [(STORY_START, Conversation())]
    produced = 0
    seen: set[tuple[str, int]] = set()
    while queue and produced < max_conversations:
        checkpoint, prefix = queue.pop(0)
        if checkpoint in dead_ends:
            # Nothing continues from here: the conversation ends, waiting for the user.
            produced += 1
            yield Conversation(_with_listens(prefix.events, final_listen=True), prefix.story_names)
            continue
        for segment in by_start.get(checkpoint, []):
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
                            queue.append((end, Conversation(events, names)))
                    continue
                produced += 1
                yield Conversation(events, names)
                if produced >= max_conversations:
                    return
