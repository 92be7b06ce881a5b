"""The knowledge base in the console: entries listed and found, written to the project's own
FAQ file (every other byte kept), a colleague's change never overwritten, and a question
tried as the assistant would answer it, with the new answer at once."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from parlez.console.roles import Role
from parlez.events import KnowledgeMissed
from tests.console.conftest import FAQ, Browser, Console, digest_in

pytestmark = pytest.mark.anyio


def faq_of(console: Console) -> Path:
    project: Path = console.app.ctx.state.project
    return project / "data" / "kb" / "faq.yml"


async def edit_form(browser: Browser, entry_id: str) -> tuple[str, str]:
    page = (await browser.get(f"/console/knowledge/entries/{entry_id}?file=faq.yml")).text
    return page, digest_in(page)


async def test_the_entries_are_listed_and_found_by_their_words(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/knowledge")).text
    assert "What are your opening hours?" in page and "Is there parking nearby?" in page
    assert 'href="/console/knowledge/entries/hours?file=faq.yml"' in page
    found = (await browser.get("/console/knowledge?search=car+park")).text
    assert "Is there parking nearby?" in found and "opening hours" not in found
    assert "1 of 2 entries" in found


async def test_an_edited_answer_changes_its_line_of_the_file_and_is_audited(
    console: Console,
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    page, digest = await edit_form(browser, "hours")
    assert "Monday to Friday, 9:00 to 18:00." in page
    reply = await browser.post(
        "/console/knowledge/entries/hours",
        {
            "file": "faq.yml",
            "digest": digest,
            "question": "What are your opening hours?",
            "answer": "Monday to Saturday, 9:00 to 18:00.",
            "alternatives": "When are you open?\r\n\r\n",
            "answer_fr": "",
            "new_language": "fr",
            "new_answer": "Du lundi au samedi, de 9:00 à 18:00.",
        },
    )
    assert reply.status == 303 and reply.headers["location"] == "/console/knowledge?saved=hours"
    assert faq_of(console).read_text() == FAQ.replace(
        "    answer: Monday to Friday, 9:00 to 18:00.\n",
        "    alternatives:\n      - When are you open?\n"
        "    answer: Monday to Saturday, 9:00 to 18:00.\n"
        "    answers:\n      fr: Du lundi au samedi, de 9:00 à 18:00.\n",
    )
    audit = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "kb_save" in audit and "hours" in audit


async def test_the_next_question_gets_the_new_answer(console: Console) -> None:
    browser = await console.sign_in(Role.ADMIN)
    asked = "/console/knowledge/try?question=when+are+you+open"
    before = (await browser.get(asked)).text
    assert "Monday to Friday, 9:00 to 18:00." in before
    _, digest = await edit_form(browser, "hours")
    form = {"file": "faq.yml", "digest": digest, "question": "What are your opening hours?"}
    await browser.post("/console/knowledge/entries/hours", {**form, "answer": "Every day, 8-20."})
    after = (await browser.get(asked)).text
    assert "Every day, 8-20." in after and "Monday to Friday" not in after


async def test_a_question_tried_shows_the_ranked_passages_their_scores_and_the_bar(
    console: Console,
) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    _, reply = await console.app.asgi_client.get(
        "/console/knowledge/try?question=can+i+park+my+car",
        headers={"cookie": browser._cookie()["cookie"], "accept": "application/json"},
    )
    tried = reply.json
    assert [p["id"] for p in tried["passages"]] == ["parking", "hours"]
    assert tried["passages"][0]["confidence"] > tried["passages"][1]["confidence"]
    assert 0.45 <= tried["bar"] <= 0.65
    assert tried["answer"]["found"] and tried["answer"]["text"].startswith("Yes, the Maple")
    assert tried["llm_answer"] is None  # no LLM configured
    page = (await browser.get("/console/knowledge/try?question=can+i+park+my+car")).text
    assert "Add this question as a new entry" in page
    assert 'href="/console/knowledge/new?question=can%20i%20park%20my%20car"' in page


async def test_a_colleagues_save_in_between_is_never_overwritten(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    _, digest = await edit_form(browser, "hours")
    # A colleague (or an editor on the server) saves the file first.
    faq_of(console).write_text(FAQ.replace("9:00 to 18:00", "9:00 to 17:00"))
    form = {"file": "faq.yml", "digest": digest, "question": "What are your opening hours?"}
    reply = await browser.post("/console/knowledge/entries/hours", {**form, "answer": "Mine."})
    assert reply.status == 409
    assert "changed since it was opened" in reply.text
    assert "9:00 to 17:00" in reply.text and "Mine." in reply.text  # theirs, and mine kept
    assert "9:00 to 17:00" in faq_of(console).read_text()
    # Saving again, having seen theirs, replaces it knowingly.
    again = await browser.post(
        "/console/knowledge/entries/hours",
        {**form, "digest": digest_in(reply.text), "answer": "Mine."},
    )
    assert again.status == 303 and "    answer: Mine.\n" in faq_of(console).read_text()


async def test_an_entry_is_added_from_a_tried_question_and_deleted(console: Console) -> None:
    browser = await console.sign_in(Role.OWNER)
    form_page = (await browser.get("/console/knowledge/new?question=Do+you+have+wifi%3F")).text
    assert 'value="Do you have wifi?"' in form_page
    reply = await browser.post(
        "/console/knowledge/entries",
        {
            "file": "faq.yml",
            "digest": digest_in(form_page),
            "question": "Do you have wifi?",
            "answer": "Yes: MapleGuest, no password.",
        },
    )
    assert reply.headers["location"] == "/console/knowledge?saved=do-you-have-wifi"
    assert faq_of(console).read_text() == FAQ + (
        "\n  - question: Do you have wifi?\n    answer: 'Yes: MapleGuest, no password.'\n"
    )
    _, digest = await edit_form(browser, "do-you-have-wifi")
    deleted = await browser.post(
        "/console/knowledge/entries/do-you-have-wifi/delete", {"file": "faq.yml", "digest": digest}
    )
    assert deleted.status == 303 and faq_of(console).read_text() == FAQ


async def test_a_wrong_entry_or_file_is_refused_and_the_file_left_alone(console: Console) -> None:
    browser = await console.sign_in(Role.DESIGNER)
    _, digest = await edit_form(browser, "hours")
    form = {"file": "faq.yml", "digest": digest, "question": "What are your opening hours?"}
    empty = await browser.post("/console/knowledge/entries/hours", {**form, "answer": "  "})
    assert empty.status == 400 and "an entry needs an answer" in empty.text
    elsewhere = await browser.post(
        "/console/knowledge/entries", {**form, "file": "../../config.yml", "answer": "x"}
    )
    assert elsewhere.status == 400
    assert (await browser.get("/console/knowledge/entries/nope?file=faq.yml")).status == 404
    assert faq_of(console).read_text() == FAQ


async def test_what_an_entry_says_is_escaped_on_every_page(console: Console) -> None:
    script = '<script>alert("kb")</script>'
    faq_of(console).write_text(FAQ.replace("Yes, the Maple Street car park.", f"'{script}'"))
    browser = await console.sign_in(Role.DESIGNER)
    for path in (
        "/console/knowledge",
        "/console/knowledge/entries/parking?file=faq.yml",
        "/console/knowledge/try?question=parking",
    ):
        page = (await browser.get(path)).text
        assert script not in page and "&lt;script&gt;" in page, path


async def test_unanswered_questions_are_grouped_by_meaning_most_asked_first(
    console: Console,
) -> None:
    agent = console.app.ctx.state.agent
    now = time.time()
    asked = [
        ("c1", "can I pay in monthly instalments?", now - 60),
        ("c2", "do you offer payment in instalments", now - 50),
        ("c3", "can i pay in instalments", now - 40),
        ("c4", "do you have wifi for customers?", now - 30),
        ("c5", "is there free wifi?", now - 20),
        ("c6", "can i pay in instalments", now - 40 * 86400),  # before the period
    ]
    for sender, question, at in asked:
        await console.customer_says(sender, "hello")
        miss = KnowledgeMissed(question=question, confidence=0.3, timestamp=at)
        await agent.append_events(sender, [miss])
    browser = await console.sign_in(Role.DESIGNER)
    _, reply = await console.app.asgi_client.get(
        "/console/knowledge/unanswered?days=30",
        headers={"cookie": browser._cookie()["cookie"], "accept": "application/json"},
    )
    groups = reply.json["groups"]
    assert [g["count"] for g in groups] == [3, 2]
    assert "instalments" in groups[0]["question"] and "wifi" in groups[1]["question"]
    assert [g["topic"] for g in groups] == ["pay instalments", "wifi"]
    assert sorted(groups[0]["conversations"]) == ["c1", "c2", "c3"]
    assert all(g["answered_by"] is None for g in groups)
    page = (await browser.get("/console/knowledge/unanswered")).text
    assert "asked 3 times" in page and "Add to the knowledge base" in page
    assert '<p class="topic">pay instalments</p>' in page
    # "Add to the knowledge base" fills the new entry with the ways it was asked.
    link = re.search(r'href="(/console/knowledge/new\?question=[^"]*wifi[^"]*)"', page)
    assert link is not None
    form = (await browser.get(link.group(1).replace("&amp;", "&"))).text
    assert "wifi" in re.search(r'<textarea id="alternatives"[^>]*>([^<]*)<', form).group(1)
    # Once an entry is written, the group says the knowledge base finds one now.
    faq_of(console).write_text(
        FAQ + "\n  - id: wifi\n    question: Do you have Wi-Fi?\n    answer: Yes, free.\n"
    )
    _, again = await console.app.asgi_client.get(
        "/console/knowledge/unanswered",
        headers={"cookie": browser._cookie()["cookie"], "accept": "application/json"},
    )
    by_question = {g["question"]: g["answered_by"] for g in again.json["groups"]}
    assert "Do you have Wi-Fi?" in by_question.values()


async def test_an_entry_answered_by_an_action_says_so_and_keeps_its_action_when_edited(
    console: Console,
) -> None:
    faq = faq_of(console)
    faq.write_text(
        FAQ + "  - id: prices\n    question: How much is a haircut?\n"
        "    action: action_tell_price\n    answer: Our prices.\n",
        encoding="utf-8",
    )
    browser = await console.sign_in(Role.DESIGNER)
    page, digest = await edit_form(browser, "prices")
    assert "the answer of the action <code>action_tell_price</code>" in page
    assert 'href="/console/business"' in page
    reply = await browser.post(
        "/console/knowledge/entries/prices",
        {
            "file": "faq.yml",
            "digest": digest,
            "question": "How much is a haircut?",
            "answer": "The price of each service.",
        },
    )
    assert reply.status == 303
    assert faq.read_text().endswith(
        "    action: action_tell_price\n    answer: The price of each service.\n"
    )
    _, read = await browser.app.asgi_client.get(
        "/console/knowledge/entries/prices?file=faq.yml",
        headers={**browser._cookie(), "accept": "application/json"},
    )
    assert read.json["entry"]["action"] == "action_tell_price"
