"""The settings page: the profile, e-mail, CRM and calendar in business.yml and the LLM in
endpoints.yml, changed by an owner or admin key by key; a secret saved there is sealed in
the file and never appears in any response again; what is wrong is refused whole."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from parlez.console.roles import Role
from parlez.io.secrets import KEY_ENV, new_key, unseal
from tests.conftest import REPO
from tests.console.conftest import Browser, Console

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
            r'<input (?:type="\w+" )?name="([^"]+)" value="([^"]*)"', page
        )
        if not name.startswith(("clear.",)) and name not in ("email.starttls",)
    }
    fields |= dict(
        re.findall(r'<input type="checkbox" name="([^"]+)" value="([^"]*)" checked', page)
    )
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
