"""A stored conversation written back as a Rasa story (`GET /conversations/<id>/story`)."""

from __future__ import annotations

from parlez.events import Event, SessionStarted
from parlez.tracker import DialogueStateTracker
from parlez.training_data.story_writer import StoryStep, stories_yaml


def sessions(events: list[Event]) -> list[list[Event]]:
    """The events split at each `session_started` (a session's first events included)."""
    split: list[list[Event]] = [[]]
    for event in events:
        if isinstance(event, SessionStarted) and any(
            isinstance(e, SessionStarted) for e in split[-1]
        ):
            split.append([])
        split[-1].append(event)
    return [s for s in split if s]


def conversation_story(
    tracker: DialogueStateTracker, all_sessions: bool = False, name: str | None = None
) -> str:
    """One story per session (only the latest unless `all_sessions`), named `name` (by
    default after the sender)."""
    parts = sessions(tracker.events) or [[]]
    chosen = parts if all_sessions else parts[-1:]
    stories: list[tuple[str, list[StoryStep]]] = []
    named = name or tracker.sender_id
    for index, events in enumerate(chosen, start=1):
        story = named if len(chosen) == 1 else f"{named}, session {index}"
        # Only what a story can say (user turns, actions, slots, loops) is written.
        applied = DialogueStateTracker.from_events(tracker.sender_id, events).applied_events()
        stories.append((story, [(event, None) for event in applied]))
    return stories_yaml(stories)
