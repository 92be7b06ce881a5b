"""The web chat's parts on their own: upload checks, the message budget, what the widget is
sent for a bot message and for a conversation's history."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.webchat import WebChatInput
from connectors.webchat.attachments import AttachmentRefused, AttachmentStore, clean_name, sniff
from connectors.webchat.limits import RateLimiter
from connectors.webchat.messages import bot_message, history
from connectors.webchat.settings import AttachmentSettings, WebChatConfigError, WebChatSettings
from parlez.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    FeedbackGiven,
    Restarted,
    UserUttered,
)
from parlez.server.state import ServedConversations, ServerState
from parlez.stores.tracker_store import InMemoryTrackerStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def test_files_are_known_by_their_content_not_their_name() -> None:
    assert sniff(PNG) == ("image/png", ".png")
    assert sniff(PDF) == ("application/pdf", ".pdf")
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == ("image/webp", ".webp")
    assert sniff(b"<html><script>alert(1)</script>") is None
    assert clean_name("../../etc/passwd.png", ".pdf") == "passwd.pdf"
    assert clean_name('C:\\Users\\me\\<b>"x".exe', ".png") == "bx.png"


def test_an_upload_is_stored_under_a_random_name_and_found_again(tmp_path: Path) -> None:
    store = AttachmentStore(AttachmentSettings(folder=tmp_path / "up"))
    stored = store.save("scan.png", PNG)
    assert stored.media_type == "image/png" and stored.original == "scan.png"
    assert stored.name.endswith(".png") and len(stored.name) == 36
    found = store.read(stored.name)
    assert found is not None and found[0].original == "scan.png"
    assert found[1] == PNG
    # Anything that is not one of its own names is not looked up on disk.
    assert store.read("../secret.png") is None
    assert store.info(stored.name + ".json") is None


def test_uploads_stop_at_the_conversation_and_the_total_caps(tmp_path: Path) -> None:
    settings = AttachmentSettings(
        folder=tmp_path / "up", max_bytes_per_conversation=100, max_total_bytes=180
    )
    store = AttachmentStore(settings)
    store.save("a.png", PNG, "ana")  # 40 bytes each
    store.save("b.png", PNG, "ana")
    with pytest.raises(AttachmentRefused) as per_conversation:
        store.save("c.png", PNG, "ana")
    assert per_conversation.value.status == 413
    store.save("d.png", PNG, "bo")
    store.save("e.png", PNG, "bo")
    with pytest.raises(AttachmentRefused) as full:
        store.save("f.png", PNG, "cy")
    assert full.value.status == 507 and full.value.reason == "StorageFull"
    # A restarted server counts what is already on disk.
    again = AttachmentStore(settings)
    with pytest.raises(AttachmentRefused):
        again.save("g.png", PNG, "ana")


@pytest.mark.anyio
async def test_a_new_session_id_per_upload_does_not_get_past_the_rate_limit(
    tmp_path: Path, small_model: Path
) -> None:
    from parlez.agent import Agent
    from parlez.server.app import create_app

    settings = WebChatSettings.model_validate(
        {"attachments": {"folder": str(tmp_path / "up"), "burst": 3, "per_minute": 1}}
    )
    state = ServerState(agent=Agent.load(small_model), channels=[WebChatInput(settings)])
    app = create_app(state)
    statuses = []
    for n in range(6):
        _, reply = await app.asgi_client.post(
            "/webchat/upload",
            data={"session_id": f"fresh-{n}"},
            files={"file": ("a.png", PNG, "image/png")},
        )
        statuses.append(reply.status)
    assert statuses[:3] == [201, 201, 201] and set(statuses[3:]) == {429}


def test_files_can_live_in_an_s3_bucket(s3_bucket: dict[str, str], tmp_path: Path) -> None:
    settings = AttachmentSettings.model_validate(
        {"storage": "s3", "s3": s3_bucket, "folder": tmp_path / "unused"}
    )
    store = AttachmentStore(settings)
    stored = store.save("reçu d'achat.pdf", PDF)
    assert not (tmp_path / "unused").exists()
    info = store.info(stored.name)
    assert info is not None
    assert (info.original, info.media_type, info.size) == (
        "reçu d'achat.pdf",
        "application/pdf",
        len(PDF),
    )
    assert store.read(stored.name) == (info, PDF)
    assert store.read("0" * 32 + ".png") is None


def test_an_s3_store_that_is_down_is_an_error_to_try_again(tmp_path: Path) -> None:
    from connectors.webchat.attachments import AttachmentStoreError
    from tests.services import free_port

    settings = AttachmentSettings.model_validate(
        {
            "storage": "s3",
            "s3": {
                "bucket": "nowhere",
                "endpoint_url": f"http://127.0.0.1:{free_port()}",
                "region": "us-east-1",
                "access_key_id": "a",
                "secret_access_key": "b",
            },
        }
    )
    with pytest.raises(AttachmentStoreError, match="nowhere"):
        AttachmentStore(settings).save("a.png", PNG)
    with pytest.raises(WebChatConfigError, match="needs an 's3:' block"):
        WebChatSettings.parse({"attachments": {"storage": "s3"}})


@pytest.mark.parametrize(
    ("content", "settings", "status", "reason"),
    [
        (b"MZ\x90\0 an exe", {}, 415, "UnsupportedFileType"),
        (b"<svg onload=alert(1)>", {}, 415, "UnsupportedFileType"),
        (PDF, {"types": ["image/png"]}, 415, "UnsupportedFileType"),
        (PNG + b"\0" * 100, {"max_bytes": 64}, 413, "FileTooLarge"),
        (b"", {}, 400, "EmptyFile"),
        (PNG, {"enabled": False}, 403, "AttachmentsOff"),
    ],
)
def test_uploads_of_the_wrong_type_or_size_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, settings: dict[str, object], status: int, reason: str
) -> None:
    store = AttachmentStore(AttachmentSettings.model_validate({"folder": tmp_path, **settings}))
    with pytest.raises(AttachmentRefused) as refused:
        store.save("file.png", content)
    assert (refused.value.status, refused.value.reason) == (status, reason)
    assert not list(tmp_path.iterdir())


def test_a_conversation_gets_a_burst_then_a_steady_rate() -> None:
    limiter = RateLimiter(per_minute=6, burst=2)
    assert limiter.take("a", now=0) == 0
    assert limiter.take("a", now=0) == 0
    assert limiter.take("a", now=0) == pytest.approx(10.0)
    assert limiter.take("b", now=0) == 0  # budgets are per conversation
    assert limiter.take("a", now=10) == 0


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(WebChatConfigError, match="messages_per_minute"):
        WebChatSettings.parse({"messages_per_minute": -1})
    with pytest.raises(WebChatConfigError, match="colour"):
        WebChatSettings.parse({"colour": "red"})


def test_a_bot_message_goes_out_as_one_message_with_its_sources() -> None:
    message = bot_message(
        {
            "text": "We open at 9.",
            "buttons": [{"title": "Book", "payload": "/book"}],
            "custom": {"sources": [{"title": "Hours", "url": "https://x.test/hours"}]},
            "timestamp": 12.5,
        }
    )
    assert message == {
        "text": "We open at 9.",
        "quick_replies": [{"title": "Book", "payload": "/book", "content_type": "text"}],
        "sources": [{"title": "Hours", "url": "https://x.test/hours"}],
        "timestamp": 12.5,
    }
    assert bot_message({"image": "https://x.test/a.png"})["attachment"] == {
        "type": "image",
        "payload": {"src": "https://x.test/a.png"},
    }


def test_history_is_the_conversation_since_the_restart_with_who_answered() -> None:
    events: list[Event] = [
        UserUttered("old", message_id="m0"),
        Restarted(),
        UserUttered("/greet", metadata={"hidden": True}, message_id="m1"),
        BotUttered("Hello!", {"buttons": [{"title": "Hours", "payload": "/ask_hours"}]}),
        UserUttered("/ask_hours", metadata={"display": "Hours"}, message_id="m2"),
        ConversationPaused(),
        BotUttered("Hi, this is Ana."),
        FeedbackGiven(rating=5),
    ]
    messages, paused = history(events, limit=100)
    assert [(m["sender"], m["text"]) for m in messages] == [
        ("bot", "Hello!"),
        ("user", "Hours"),
        ("bot", "Hi, this is Ana."),
    ]
    assert [m.get("human") for m in messages] == [False, None, True]
    assert paused
    assert history([*events, ConversationResumed()], limit=1) == (
        [messages[-1]],
        False,
    )


def test_a_rating_is_an_event_that_round_trips() -> None:
    event = FeedbackGiven(rating=4, comment="quick")
    assert Event.from_dict(event.to_dict()) == event
    with pytest.raises(ValueError):
        FeedbackGiven(rating=9)


def test_a_resend_this_process_never_saw_is_found_in_the_conversation() -> None:
    async def check() -> tuple[bool, bool, bool]:
        store = InMemoryTrackerStore()
        tracker = store.create("visitor")
        tracker.update(UserUttered("hello", message_id="m1"))
        await store.save(tracker)
        channel = WebChatInput()
        channel.conversations = ServedConversations(ServerState(agent=None, tracker_store=store))
        return (
            await channel._already_received("visitor", "m1", resend=True),
            await channel._already_received("visitor", "m2", resend=False),
            await channel._already_received("visitor", "m2", resend=True),  # seen just now
        )

    assert asyncio.run(check()) == (True, False, True)
