"""The settings page: the profile, e-mail, CRM and calendar in business.yml, the LLM in
endpoints.yml, the web chat's look and the channels' credentials in credentials.yml, changed
by an owner or admin key by key; a secret saved there is sealed in the file and never
appears in any response again; what is wrong is refused whole."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parlez.channels.credentials import channels_from_credentials
from parlez.console.roles import Role
from parlez.endpoints import read_credentials
from parlez.io.secrets import KEY_ENV, new_key, unseal
from tests.conftest import REPO
from tests.console.conftest import Browser, Console, make_console

pytestmark = pytest.mark.anyio

BUSINESS = (REPO / "business.yml").read_text(encoding="utf-8")
ENDPOINTS = "# Services.\nllm:\n  type: anthropic   # or openai\n  model: claude-haiku-4-5\n"
SECRET = "pw-Zq81!never-shown"


@pytest.fixture
def files(console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    project: Path = console.app.ctx.state.project
    business = project / "business.yml"
    business.write_text(BUSINESS, encoding="utf-8")
    endpoints = project / "endpoints.yml"
    endpoints.write_text(ENDPOINTS, encoding="utf-8")
    monkeypatch.delenv("PARLEZ_ENDPOINTS", raising=False)
    monkeypatch.setenv(KEY_ENV, new_key())
    return business, endpoints


def form_of(page: str) -> dict[str, str]:
    """The fields as the page fills them, and the checked boxes, as a browser sends them."""
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input (?:type="(?!checkbox)\w+" )?name="([^"]+)" value="([^"]*)"', page
        )
    }
    fields |= dict(
        re.findall(r'<input type="checkbox" name="([^"]+)" value="([^"]*)" checked', page)
    )
    fields |= {
        name: html.unescape(value)
        for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S)
    }
    for name, options in re.findall(r'<select name="([^"]+)">(.*?)</select>', page):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


async def everything_shown(console: Console, browser: Browser) -> str:
    pages = [await browser.get(path) for path in ("/console/settings", "/console/audit")]
    _, listed = await console.app.asgi_client.get(
        "/console/settings", headers={**browser._cookie(), "accept": "application/json"}
    )
    return "".join(p.text for p in pages) + listed.text


async def test_the_profile_and_smtp_are_written_in_place_and_the_password_sealed(
    console: Console, files: tuple[Path, Path]
) -> None:
    business, _ = files
    browser = await console.sign_in(Role.OWNER)
    page = (await browser.get("/console/settings")).text
    form = form_of(page)
    assert form["name"] == "Maple Street Studio" and form["email.type"] == "file"
    form |= {
        "address": "16 Maple Street, London",
        "email.type": "smtp",
        "email.host": "smtp.example.com",
        "email.port": "587",
        "email.starttls": "1",
        "email.password": SECRET,
    }
    reply = await browser.post("/console/settings", form)
    assert reply.status == 303, reply.text
    text = business.read_text(encoding="utf-8")
    sealed = re.search(r"  password: (fernet:\S+)\n", text)
    assert sealed is not None and unseal(sealed.group(1)) == SECRET
    assert SECRET not in text
    # only those lines changed; the comments stay
    assert text.replace(sealed.group(0), "") == BUSINESS.replace(
        "address: 14 Maple Street, London", "address: 16 Maple Street, London"
    ).replace(
        "  type: file\n  from:",
        "  type: smtp\n  from:",
    ).replace(
        '  from: "Maple Street Studio <hello@maplestreetstudio.example>"\n',
        '  from: "Maple Street Studio <hello@maplestreetstudio.example>"\n'
        "  host: smtp.example.com\n  port: 587\n  starttls: true\n",
    )
    shown = await everything_shown(console, browser)
    assert SECRET not in shown and sealed.group(1) not in shown
    assert "Set (sealed in the file)" in shown
    assert "email.password (secret)" in shown  # the audit names the setting, not the value


async def test_a_reference_is_kept_a_blank_secret_kept_and_a_provider_removed(
    console: Console, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    business, endpoints = files
    browser = await console.sign_in(Role.ADMIN)
    form = form_of((await browser.get("/console/settings")).text)
    # a variable not set where parlez runs would leave the assistant unable to read the file
    unset = await browser.post(
        "/console/settings", {**form, "crm.type": "hubspot", "crm.token": "${HUBSPOT_TOKEN}"}
    )
    assert unset.status == 400 and "HUBSPOT_TOKEN&#39; is not set" in unset.text
    assert business.read_text() == BUSINESS
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-123")
    reply = await browser.post(
        "/console/settings",
        {**form, "crm.type": "hubspot", "crm.url": "https://api.hubapi.com",
         "crm.token": "${HUBSPOT_TOKEN}", "llm.api_key": "sk-live-123"},
    )  # fmt: skip
    assert reply.status == 303, reply.text
    assert "crm:\n  type: hubspot\n  url: https://api.hubapi.com\n  token: ${HUBSPOT_TOKEN}\n" in (
        business.read_text()
    )
    assert "  api_key: fernet:" in endpoints.read_text()
    page = (await browser.get("/console/settings")).text
    assert "read from the environment: ${HUBSPOT_TOKEN}" in page and "sk-live-123" not in page
    # saving the page again with the secrets left blank keeps them
    again = await browser.post("/console/settings", form_of(page))
    assert again.headers["location"] == "/console/settings?saved=0"
    # no LLM: the section goes
    form = form_of((await browser.get("/console/settings")).text)
    gone = await browser.post("/console/settings", {**form, "llm.type": ""})
    assert gone.status == 303, gone.text
    assert endpoints.read_text() == "# Services.\n"


async def test_a_wrong_value_or_no_key_to_seal_with_is_refused_and_nothing_written(
    console: Console, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    business, endpoints = files
    browser = await console.sign_in(Role.OWNER)
    form = form_of((await browser.get("/console/settings")).text)
    for field, value, problem in [
        ("timezone", "Mars/Olympus", "unknown time zone"),
        ("email.port", "smtp", "is not a port number"),
        ("contact.email", "hello", "is not an e-mail address"),
        ("languages", "english", "is not a language code"),
        ("currency", "euros", "unknown currency"),
        ("name", " ", "needed"),
    ]:
        reply = await browser.post("/console/settings", {**form, field: value})
        assert reply.status == 400 and problem in reply.text, (field, reply.status)
    monkeypatch.delenv(KEY_ENV)
    refused = await browser.post("/console/settings", {**form, "email.password": SECRET})
    assert refused.status == 400 and "set PARLEZ_SECRET_KEY" in refused.text
    assert SECRET not in refused.text  # not even in the form shown again
    business.write_text(BUSINESS.replace("Maple Street Studio", "Maple Studio", 1))
    stale = await browser.post("/console/settings", {**form, "address": "elsewhere"})
    assert stale.status == 409 and "changed since this page was opened" in stale.text
    assert business.read_text() == BUSINESS.replace("Maple Street Studio", "Maple Studio", 1)
    assert endpoints.read_text() == ENDPOINTS


async def test_only_owners_and_admins_see_the_settings(
    console: Console, files: tuple[Path, Path]
) -> None:
    for role in (Role.AGENT, Role.DESIGNER, Role.VIEWER):
        browser = await console.sign_in(role)
        assert (await browser.get("/console/settings")).status == 403
        assert (await browser.post("/console/settings", {"name": "x"})).status == 403
    assert files[0].read_text() == BUSINESS


CREDENTIALS = (REPO / "credentials.yml").read_text(encoding="utf-8")


@pytest.fixture
async def with_webchat(
    small_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Console, Path]]:
    """The console of a server that serves the assistant's web chat, from its own
    credentials.yml."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(REPO / "business.yml", project / "business.yml")
    credentials = project / "credentials.yml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    monkeypatch.delenv("PARLEZ_ENDPOINTS", raising=False)
    monkeypatch.setenv(KEY_ENV, new_key())
    channels = channels_from_credentials(read_credentials(credentials))
    made = await make_console(
        small_model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", channels=channels, project=project
    )
    yield made, credentials
    await made.close()


async def test_the_web_chat_look_is_written_in_place_and_served_at_once(
    with_webchat: tuple[Console, Path],
) -> None:
    console, credentials = with_webchat
    browser = await console.sign_in(Role.ADMIN)
    page = (await browser.get("/console/settings")).text
    assert 'src="/webchat/widget.js" data-manual="true"' in page  # the live preview
    form = form_of(page)
    assert form["webchat.title"] == "Maple Street Studio" and form["webchat.color"] == "#2f5bea"
    assert form["webchat.allowed_origins"] == "http://127.0.0.1:5005\nhttp://localhost:5005"
    form |= {
        "webchat.title": "Maple Street — book online",
        "webchat.color": "#aa3355",
        "webchat.position": "left",
        "webchat.allowed_origins": "http://127.0.0.1:5005\nhttp://localhost:5005\n"
        "https://www.maplestreet.example/",
    }
    reply = await browser.post("/console/settings", form)
    assert reply.status == 303 and reply.headers["location"] == "/console/settings?saved=4"
    assert credentials.read_text(encoding="utf-8") == CREDENTIALS.replace(
        "    - http://localhost:5005\n",
        "    - http://localhost:5005\n    - https://www.maplestreet.example\n",
    ).replace(
        "    title: Maple Street Studio\n", "    title: Maple Street — book online\n"
    ).replace('    color: "#2f5bea"\n', '    color: "#aa3355"\n').replace(
        "    greeting: /greet\n", "    greeting: /greet\n    position: left\n"
    )
    # the running web chat follows without a restart: its script and the new website
    _, widget = await console.app.asgi_client.get("/webchat/widget.js")
    assert '"title": "Maple Street \\u2014 book online"' in widget.text
    assert '"color": "#aa3355"' in widget.text and '"position": "left"' in widget.text
    (webchat,) = [c for c in console.app.ctx.state.channels if c.name() == "webchat"]
    assert webchat.origin_allowed("https://www.maplestreet.example", None)
    for field, value, problem in [
        ("webchat.color", "red", "is not a colour such as #2f5bea"),
        ("webchat.allowed_origins", "www.example.com", "is not a website&#39;s address"),
        ("webchat.position", "top", "choose one of right, left"),
    ]:
        wrong = await browser.post("/console/settings", {**form, field: value})
        assert wrong.status == 400 and problem in wrong.text, field


async def test_a_channel_is_served_with_its_secrets_sealed_and_taken_out_again(
    with_webchat: tuple[Console, Path],
) -> None:
    """Telegram switched on with its token (sealed, never shown again): a restart serves
    it; a channel missing what it needs is refused; switched off, its block goes."""
    console, credentials = with_webchat
    browser = await console.sign_in(Role.OWNER)
    form = form_of((await browser.get("/console/settings")).text)
    assert "telegram" not in form  # not served: its box is not ticked
    missing = await browser.post("/console/settings", {**form, "slack": "1"})
    assert missing.status == 400 and "slack:" in missing.text and "slack_token" in missing.text
    token = "123456:AAE-never-shown"
    reply = await browser.post(
        "/console/settings",
        {
            **form,
            "telegram": "1",
            "telegram.access_token": token,
            "telegram.verify": "maple_street_bot",
            "telegram.webhook_url": "https://bot.maplestreet.example/webhooks/telegram/webhook",
        },
    )
    assert reply.status == 303, reply.text
    assert reply.headers["location"] == "/console/settings?saved=4&later=telegram"
    text = credentials.read_text(encoding="utf-8")
    assert text.startswith(CREDENTIALS) and token not in text
    block = read_credentials(credentials)["telegram"]
    assert block["access_token"] == token and block["verify"] == "maple_street_bot"
    page = (await browser.get(reply.headers["location"])).text
    assert "Restart parlez for telegram" in page
    shown = await everything_shown(console, browser)
    assert token not in shown and "telegram.access_token (secret)" in shown
    # switched off: the block goes, the rest of the file as it was
    form = form_of(page)
    del form["telegram"]
    off = await browser.post("/console/settings", form)
    assert off.status == 303 and credentials.read_text(encoding="utf-8") == CREDENTIALS


async def test_a_project_without_endpoints_or_credentials_gets_them_made(
    console: Console, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An LLM chosen where no endpoints.yml exists yet, and a channel switched on where no
    credentials.yml does: each file is made with what was chosen."""
    _, endpoints = files
    endpoints.unlink()
    credentials = console.app.ctx.state.project / "credentials.yml"
    assert not credentials.exists()
    browser = await console.sign_in(Role.OWNER)
    form = form_of((await browser.get("/console/settings")).text) | {
        "llm.type": "anthropic",
        "llm.model": "claude-haiku-4-5",
        "slack": "1",
        "slack.slack_token": "${SLACK_TOKEN}",
        "slack.slack_signing_secret": "${SLACK_SECRET}",
    }
    reply = await browser.post("/console/settings", form)
    assert reply.status == 400 and "SLACK_TOKEN" in reply.text  # not set where parlez runs
    monkeypatch.setenv("SLACK_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SECRET", "s3")
    reply = await browser.post("/console/settings", form)
    assert reply.status == 303, reply.text
    assert endpoints.read_text() == "llm:\n  type: anthropic\n  model: claude-haiku-4-5\n"
    assert read_credentials(credentials)["slack"] == {
        "slack_token": "xoxb-1",
        "slack_signing_secret": "s3",
    }
