"""The knowledge base's Markdown pages edited in the console and its FAQ imported and
exported as files: a saved page is answered from at once, a colleague's save is never
overwritten, no path leaves data/kb/, and an import that cannot be read changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parlez.console.roles import Role
from tests.console.conftest import FAQ, Browser, Console, digest_in

pytestmark = pytest.mark.anyio


def kb_of(console: Console) -> Path:
    project: Path = console.app.ctx.state.project
    return project / "data" / "kb"


async def upload(browser: Browser, name: str, body: bytes, **form: str) -> Any:
    _, reply = await browser.app.asgi_client.post(
        "/console/knowledge/import",
        data={"csrf": browser.csrf, **form},
        files={"file": (name, body, "application/octet-stream")},
        headers=browser._cookie(),
    )
    return reply


async def test_a_page_is_made_edited_and_answered_from_at_once(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    made = await browser.post("/console/knowledge/pages", {"title": "Our team"})
    assert made.status == 303 and made.headers["location"] == "/console/knowledge/pages/our-team.md"
    page = (await browser.get("/console/knowledge/pages/our-team.md")).text
    assert "# Our team" in page
    text = "# Our team\n\n## Stylists\n\nAna has cut hair for twenty years; Ben colours.\n"
    saved = await browser.post(
        "/console/knowledge/pages/our-team.md", {"text": text, "digest": digest_in(page)}
    )
    assert saved.status == 303
    assert (kb_of(console) / "our-team.md").read_text() == text
    listed = (await browser.get("/console/knowledge")).text
    assert "our-team.md" in listed and "Our team &gt; Stylists" in listed
    tried = (await browser.get("/console/knowledge/try?question=who+colours+hair")).text
    assert "Ana has cut hair for twenty years" in tried
    audit = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "kb_page_new" in audit and "kb_page_save" in audit


async def test_a_stale_save_a_path_outside_and_an_empty_page_are_refused(
    console: Console,
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page_file = kb_of(console) / "about.md"
    page_file.write_text("# About\n\nA studio.\n")
    page = (await browser.get("/console/knowledge/pages/about.md")).text
    page_file.write_text("# About\n\nA studio since 1990.\n")  # a colleague saved meanwhile
    stale = await browser.post(
        "/console/knowledge/pages/about.md",
        {"text": "# About\n\nMine.\n", "digest": digest_in(page)},
    )
    assert stale.status == 409 and "changed since this page was opened" in stale.text
    assert "Mine." in stale.text  # what was typed is kept in the form
    assert page_file.read_text() == "# About\n\nA studio since 1990.\n"
    for path in ("../../domain.md", "faq.yml", "%2e%2e/secret.md"):
        assert (await browser.get(f"/console/knowledge/pages/{path}")).status in (400, 404)
    empty = await browser.post(
        "/console/knowledge/pages/about.md", {"text": "", "digest": digest_in(page)}
    )
    assert empty.status == 400 and "needs some text" in empty.text
    gone = await browser.post(
        "/console/knowledge/pages/about.md/delete",
        {"digest": digest_in((await browser.get("/console/knowledge/pages/about.md")).text)},
    )
    assert gone.status == 303 and not page_file.exists()


async def test_the_faq_exports_and_an_import_adds_or_replaces_its_entries(
    console: Console,
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    exported = await browser.get("/console/knowledge/export/json")
    assert exported.status == 200, exported.text
    assert exported.headers["content-disposition"] == 'attachment; filename="faq.json"'
    assert [e["id"] for e in json.loads(exported.body)] == ["hours", "parking"]
    csv = await browser.get("/console/knowledge/export/csv")
    assert csv.text.splitlines()[0] == "id,question,answer,alternatives,url"
    added = await upload(
        browser,
        "more.csv",
        b"question,answer,alternatives\nDo you sell gift cards?,Yes from 20 EUR.,Gift vouchers?\n",
    )
    assert added.status == 303 and added.headers["location"] == "/console/knowledge?imported=1"
    listed = (await browser.get("/console/knowledge")).text
    assert "Do you sell gift cards?" in listed and "Is there parking nearby?" in listed
    replaced = await upload(
        browser, "faq.json", b'[{"question": "Open on Sunday?", "answer": "No."}]', replace="1"
    )
    assert replaced.status == 303
    listed = (await browser.get("/console/knowledge")).text
    assert "Open on Sunday?" in listed and "Is there parking nearby?" not in listed
    audit = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "kb_import" in audit and "1 entries from faq.json" in audit


async def test_an_import_that_cannot_be_read_changes_nothing(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    faq = kb_of(console) / "faq.yml"
    broken = await upload(browser, "mine.json", b'[{"question": "x"')
    assert broken.status == 400 and "Nothing was imported" in broken.text
    assert "mine.json" in broken.text and "upload" not in broken.text
    wrong = await upload(browser, "notes.txt", b"hello")
    assert wrong.status == 400
    assert faq.read_text() == FAQ
    viewer = await console.sign_in(Role.AGENT)
    assert (await upload(viewer, "x.csv", b"question,answer\na,b\n")).status == 403
