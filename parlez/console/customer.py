"""Who the customer is on the channel they write from, as the conversation page shows it.

Each messaging channel puts what identifies the customer on its platform in the metadata of
their messages (Messenger's page-scoped id, the phone number of an SMS, a Telegram user
name, a Slack user); the page lists the ones it knows, from the customer's latest message.
"""

from __future__ import annotations

from typing import Any

from parlez.tracker import DialogueStateTracker

#: metadata key -> what the page calls it, in the order it shows them
IDENTITY = {
    "phone": "Phone",
    "psid": "Messenger / Instagram id",
    "page_id": "Page",
    "username": "Username",
    "telegram_user_id": "Telegram user id",
    "slack_user": "Slack user",
    "slack_channel": "Slack channel",
    "language_code": "Device language",
}


#: what the web chat's pre-chat form asks (`metadata.visitor`), as the page calls it
VISITOR = {"name": "Name", "email": "E-mail", "phone": "Phone"}
#: slots the framework keeps for itself: not something the customer said
INTERNAL_SLOTS = {"requested_slot", "session_started_metadata"}


def details(tracker: DialogueStateTracker) -> list[tuple[str, str]]:
    """(label, value) of who the customer is on their latest channel: what the web chat's
    visitor form gave, the page they write from, their platform's ids."""
    metadata = tracker.latest_input_metadata()
    visitor: dict[str, Any] = (
        metadata["visitor"] if isinstance(metadata.get("visitor"), dict) else {}
    )
    found = [(label, str(visitor[key])) for key, label in VISITOR.items() if visitor.get(key)]
    page = metadata.get("page")
    if isinstance(page, dict) and page.get("url"):
        found.append(("Page", str(page["url"])))
    found += [
        (label, str(metadata[key]))
        for key, label in IDENTITY.items()
        if metadata.get(key) not in (None, "")
    ]
    if metadata.get("whatsapp"):
        found.insert(0, ("On", "WhatsApp"))
    return found


def known(tracker: DialogueStateTracker) -> list[tuple[str, str]]:
    """What the assistant has learnt in the conversation (its slots that hold something):
    the customer's name and e-mail, the booking's service, time and reference, a lead's
    consent..."""
    initial = {slot.name: slot.initial_value for slot in tracker.slot_definitions()}
    found = []
    for name, value in sorted(tracker.slots.items()):
        if name in INTERNAL_SLOTS or value in (None, "", [], {}) or value == initial.get(name):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        found.append((name.replace("_", " "), shown))
    return found
