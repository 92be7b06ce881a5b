"""Who the customer is on the channel they write from, as the conversation page shows it.

Each messaging channel puts what identifies the customer on its platform in the metadata of
their messages (Messenger's page-scoped id, the phone number of an SMS, a Telegram user
name, a Slack user); the page lists the ones it knows, from the customer's latest message.
"""

from __future__ import annotations

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


def details(tracker: DialogueStateTracker) -> list[tuple[str, str]]:
    """(label, value) of what identifies the customer on their latest channel."""
    metadata = tracker.latest_input_metadata()
    found = [
        (label, str(metadata[key]))
        for key, label in IDENTITY.items()
        if metadata.get(key) not in (None, "")
    ]
    if metadata.get("whatsapp"):
        found.insert(0, ("On", "WhatsApp"))
    return found
