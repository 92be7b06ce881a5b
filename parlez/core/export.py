"""A stored conversation written back as a Rasa story (`GET /conversations/<id>/story`), or
as the story or rule that corrects what the assistant did after one of its messages."""

from __future__ import annotations

from parlez.domain import Domain
from parlez.events import ActionExecuted, ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
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


def corrected_story(
    tracker: DialogueStateTracker, at: float, intent: str, action: str, domain: Domain, name: str
) -> str | None:
    """The training story that teaches `action` after the customer's message sent at `at`:
    the session up to that message (read as `intent`), then `action`, as Rasa X's
    interactive learning wrote a corrected conversation. None: no message was sent at `at`."""
    events: list[Event] = []
    found = False
    for event in tracker.events:
        if found and not isinstance(event, SlotSet):
            break  # the slots its words filled are part of the message; the actions are not
        if isinstance(event, UserUttered) and abs(event.timestamp - at) < 1e-6:
            event, found = UserUttered(event.text, {"name": intent}, event.entities), True
        events.append(event)
    if not found:
        return None
    applied = DialogueStateTracker.from_events(tracker.sender_id, events).applied_events()
    kept = [e for e in applied if not isinstance(e, SlotSet) or _shapes_dialogue(e, domain)]
    steps = [(event, None) for event in [*kept, *_doing(action, domain)]]
    return stories_yaml([(name, steps)], by_intent=True)


def corrected_rule(intent: str, action: str, domain: Domain, name: str) -> str:
    """The rule "whenever a customer means `intent`, do `action`" (a form is started)."""
    steps = [
        (event, None) for event in [UserUttered(None, {"name": intent}), *_doing(action, domain)]
    ]
    return stories_yaml([(name, steps)], kind="rule", by_intent=True)


def _doing(action: str, domain: Domain) -> list[Event]:
    """`action` as a story's steps: a form is run and then active."""
    return [ActionExecuted(action), *([ActiveLoop(action)] if action in domain.forms else [])]


def _shapes_dialogue(event: SlotSet, domain: Domain) -> bool:
    slot = domain.all_slots.get(event.key)
    return slot is not None and slot.influence_conversation
