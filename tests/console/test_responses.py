"""The responses editor: every response of the domain with its languages, a variation's
text and buttons changed on their own lines (quotes and comments kept), a language added
and a variation removed, a colleague's save never overwritten, and what a response says
escaped on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from parlez.console.roles import Role
from tests.console.conftest import Browser, Console, digest_in

pytestmark = pytest.mark.anyio

DOMAIN = """\
version: "3.1"
intents: [greet, ask_hours]
responses:
  # said first
  utter_greet:
    - condition:
        - type: slot
          name: language
          value: fr
      text: "Bonjour !"
    - text: "Hello! How can I help?"   # the default
      buttons:
        - title: "Opening hours"
          payload: "/ask_hours"
  utter_goodbye:
    - text: "Bye <b>now</b>"
    - text: "See you!"
      channel: twilio
"""


@pytest.fixture
def domain(console: Console) -> Path:
    path: Path = console.app.ctx.state.project / "domain.yml"
    path.write_text(DOMAIN, encoding="utf-8")
    return path


async def opened(browser: Browser, name: str) -> tuple[str, str]:
    page = (await browser.get(f"/console/responses/{name}")).text
    return page, digest_in(page)


async def test_the_responses_are_listed_with_their_languages_and_found_by_their_words(
    console: Console, domain: Path
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/responses")).text
    assert 'href="/console/responses/utter_greet"' in page and "Hello! How can I help?" in page
    assert "2 of 2 responses" in page and "twilio" in page
    found = (await browser.get("/console/responses?search=bye")).text
    assert "utter_goodbye" in found and "utter_greet" not in found
    # what a response says is text on the page, never markup
    assert "Bye &lt;b&gt;now&lt;/b&gt;" in found


async def test_a_text_and_a_button_title_change_their_lines_and_nothing_else(
    console: Console, domain: Path
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page, digest = await opened(browser, "utter_greet")
    assert 'data-preview="text_1"' in page and "/ask_hours" in page
    reply = await browser.post(
        "/console/responses/utter_greet",
        {
            "digest": digest,
            "text_0": "Bonjour ! Que puis-je faire ?",
            "text_1": 'Hello! Ask me "anything".',
            "title_1_0": "Our hours",
        },
    )
    assert reply.status == 303, reply.text
    assert reply.headers["location"] == "/console/responses/utter_greet?saved=1"
    assert domain.read_text() == DOMAIN.replace(
        '"Bonjour !"', '"Bonjour ! Que puis-je faire ?"'
    ).replace('"Hello! How can I help?"', '"Hello! Ask me \\"anything\\"."').replace(
        '"Opening hours"', '"Our hours"'
    )
    audit = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "response_save" in audit and "utter_greet" in audit


async def test_a_language_is_added_with_the_defaults_buttons_and_a_variation_removed(
    console: Console, domain: Path
) -> None:
    browser = await console.sign_in(Role.ADMIN)
    page, digest = await opened(browser, "utter_greet")
    assert "de, en, es have no variation of their own" in page  # it has French already
    added = await browser.post(
        "/console/responses/utter_greet",
        {"digest": digest, "new_language": "es", "new_text": "¡Hola!"},
    )
    assert added.status == 303
    # at the end of the response, indented as its other variations
    assert domain.read_text() == DOMAIN.replace(
        '          payload: "/ask_hours"\n',
        '          payload: "/ask_hours"\n'
        "    - condition:\n"
        "        - type: slot\n          name: language\n          value: es\n"
        "      text: ¡Hola!\n"
        "      buttons:\n        - title: Opening hours\n          payload: /ask_hours\n",
    )
    page, digest = await opened(browser, "utter_goodbye")
    removed = await browser.post(
        "/console/responses/utter_goodbye",
        {"digest": digest, "text_0": "Bye <b>now</b>", "remove_1": "1"},
    )
    assert removed.status == 303
    assert "See you!" not in domain.read_text() and "Bye <b>now</b>" in domain.read_text()


async def test_an_empty_text_or_a_colleagues_save_in_between_changes_nothing(
    console: Console, domain: Path
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    _, digest = await opened(browser, "utter_greet")
    empty = await browser.post(
        "/console/responses/utter_greet", {"digest": digest, "text_0": "", "text_1": "Hi"}
    )
    assert empty.status == 400 and "needs a text" in empty.text
    assert domain.read_text() == DOMAIN
    domain.write_text(DOMAIN.replace("# said first", "# said first of all"), encoding="utf-8")
    stale = await browser.post(
        "/console/responses/utter_greet",
        {"digest": digest, "text_0": "Salut !", "text_1": "Hello! How can I help?"},
    )
    assert stale.status == 409 and "changed since this page was opened" in stale.text
    assert "Salut" not in domain.read_text()


async def test_a_variation_is_added_for_a_channel_and_for_a_language_on_a_channel(
    console: Console, domain: Path
) -> None:
    """Rasa's `channel:` variations: a shorter text on Telegram, a French one on Slack; a
    second one for the same place is refused."""
    browser = await console.sign_in(Role.DESIGNER)
    page, digest = await opened(browser, "utter_goodbye")
    assert "<option>twilio</option>" in page and "<option>slack</option>" in page
    sms = await browser.post(
        "/console/responses/utter_goodbye",
        {"digest": digest, "new_channel": "telegram", "new_text": "Bye!"},
    )
    assert sms.status == 303, sms.text
    page, digest = await opened(browser, "utter_goodbye")
    assert "on <code>telegram</code>" in page
    both = await browser.post(
        "/console/responses/utter_goodbye",
        {"digest": digest, "new_language": "fr", "new_channel": "slack", "new_text": "Salut"},
    )
    assert both.status == 303, both.text
    variations = yaml.safe_load(domain.read_text())["responses"]["utter_goodbye"]
    assert variations[-2:] == [
        {"text": "Bye!", "channel": "telegram"},
        {
            "condition": [{"type": "slot", "name": "language", "value": "fr"}],
            "text": "Salut",
            "channel": "slack",
        },
    ]
    _, digest = await opened(browser, "utter_goodbye")
    for form, problem in [
        ({"new_channel": "twilio", "new_text": "Ciao"}, "already has a variation on twilio"),
        ({"new_channel": "telegram", "new_text": "Ciao"}, "already has a variation on telegram"),
        ({"new_text": "Ciao"}, "a new variation is for a language or a channel"),
        ({"new_channel": "sms line", "new_text": "Ciao"}, "is not a channel&#39;s name"),
        ({"new_channel": "slack"}, "the variation on slack needs a text"),
    ]:
        wrong = await browser.post("/console/responses/utter_goodbye", {"digest": digest, **form})
        assert wrong.status == 400 and problem in wrong.text, form


RICH = """\
version: "3.1"
responses:
  utter_map:
    - text: "Here we are:"
      image: https://maple.example/map.png   # the street map
    - custom:
        type: location
        coordinates: {lat: 51.5, lon: -0.12}
      channel: slack
"""


async def test_an_image_and_a_custom_payload_are_changed_in_place(
    console: Console, domain: Path
) -> None:
    """The image's address on its line (its comment kept), a custom payload from the JSON
    the page shows; JSON that is not an object, or an address that is not one, refused."""
    domain.write_text(RICH, encoding="utf-8")
    browser = await console.sign_in(Role.DESIGNER)
    page, digest = await opened(browser, "utter_map")
    assert 'name="image_0" value="https://maple.example/map.png"' in page
    assert "&#34;coordinates&#34;: {" in page and 'name="custom_1"' in page
    wrong = [
        ({"image_0": "map.png"}, "is not an image&#39;s http(s) address"),
        ({"custom_1": "{lat: 1}"}, "the custom payload is not JSON (line 1"),
        ({"custom_1": "[1, 2]"}, "a custom payload is a JSON object"),
    ]
    for form, problem in wrong:
        reply = await browser.post(
            "/console/responses/utter_map", {"digest": digest, "text_0": "Here we are:", **form}
        )
        assert reply.status == 400 and problem in reply.text, form
    assert domain.read_text() == RICH
    custom = {"type": "location", "coordinates": {"lat": 51.52, "lon": -0.12}}
    reply = await browser.post(
        "/console/responses/utter_map",
        {
            "digest": digest,
            "text_0": "Here we are:",
            "image_0": "https://maple.example/map-2027.png",
            "custom_1": json.dumps(custom),
        },
    )
    assert reply.status == 303, reply.text
    text = domain.read_text()
    assert "      image: https://maple.example/map-2027.png   # the street map\n" in text
    written = yaml.safe_load(text)["responses"]["utter_map"]
    assert written[1] == {"custom": custom, "channel": "slack"}
    # the image taken out: the text is what is said
    _, digest = await opened(browser, "utter_map")
    gone = await browser.post(
        "/console/responses/utter_map", {"digest": digest, "text_0": "Here we are:", "image_0": ""}
    )
    assert gone.status == 303 and "image:" not in domain.read_text()


async def test_a_button_is_added_with_an_intent_and_another_removed(
    console: Console, domain: Path
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page, digest = await opened(browser, "utter_greet")
    assert '<option value="/ask_hours">' in page  # the intents offered as what it sends
    base = {"digest": digest, "text_1": "Hello! How can I help?"}
    unknown = await browser.post(
        "/console/responses/utter_greet",
        {**base, "new_title_1": "Book", "new_payload_1": "/book_appointment"},
    )
    assert unknown.status == 400 and "&#39;book_appointment&#39; is not an intent" in unknown.text
    untitled = await browser.post(
        "/console/responses/utter_greet", {**base, "new_payload_1": "/greet"}
    )
    assert untitled.status == 400 and "needs a title and what it sends" in untitled.text
    added = await browser.post(
        "/console/responses/utter_greet",
        {**base, "new_title_1": "Say hi", "new_payload_1": "/greet", "remove_button_1_0": "1"},
    )
    assert added.status == 303, added.text
    assert domain.read_text() == DOMAIN.replace(
        '        - title: "Opening hours"\n          payload: "/ask_hours"\n',
        "        - title: Say hi\n          payload: /greet\n",
    )
    _, digest = await opened(browser, "utter_greet")
    emptied = await browser.post(
        "/console/responses/utter_greet",
        {"digest": digest, "text_1": "Hello! How can I help?", "remove_button_1_0": "1"},
    )
    assert emptied.status == 303
    assert yaml.safe_load(domain.read_text())["responses"]["utter_greet"][1] == {
        "text": "Hello! How can I help?"
    }
