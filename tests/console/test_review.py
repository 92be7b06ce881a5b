"""Review and correct: the turns worth a look are queued with their reasons, a turn shows what
the assistant understood and did, and a correction becomes one added line of the project's
NLU file that the designer saw first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from parlez.agent import Agent
from parlez.console.roles import Role
from parlez.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    KnowledgeMissed,
    UserUttered,
)
from parlez.project import Project
from parlez.training import train
from tests import small_assistant
from tests.conftest import write
from tests.console.conftest import Browser, Console, digest_in

pytestmark = pytest.mark.anyio

NLU = """\
version: "3.1"
# Greetings first: they are most of what customers say.
nlu:
- intent: greet
  examples: |
    - hello
    - hi there

- intent: goodbye
  examples: |
    - bye
"""


def said(text: str, intent: str, confidence: float, at: float, **extra: Any) -> UserUttered:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "inform", "confidence": 0.2}]
    return UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        entities=[{"entity": "city", "value": "Paris", "extractor": "CRFEntityExtractor"}],
        parse_data_extra={"intent_ranking": ranking, **extra},
        timestamp=at,
    )


@pytest.fixture
async def queued(console: Console) -> Console:
    """A conversation with a turn for each reason, a sure one, and a pressed button."""
    project: Path = console.app.ctx.state.project
    write(project / "data" / "nlu.yml", NLU)
    listen = ActionExecuted("action_listen")
    events = [
        said("hiya mate", "greet", 0.41, 100.0),
        ActionExecuted("utter_greet", policy="TEDPolicy", confidence=0.7),
        BotUttered("Hello! Where are you?"),
        listen,
        said("asdfgh", "nlu_fallback", 0.3, 200.0),
        listen,
        said("do you do finance", "inform", 0.9, 300.0),
        KnowledgeMissed(question="do you do finance", confidence=0.35),
        listen,
        said("this is useless", "inform", 0.95, 400.0, sentiment={"label": "negative"}),
        listen,
        said("a person please", "goodbye", 0.97, 500.0),
        ConversationPaused(),
        said("see you", "goodbye", 0.99, 600.0),  # sure: not queued
        said("/greet", "greet", 0.2, 700.0),  # a pressed button: not queued
    ]
    await console.app.ctx.state.agent.append_events("ana", events)
    return console


async def queue(browser: Browser, console: Console, query: str = "") -> list[dict[str, Any]]:
    _, reply = await console.app.asgi_client.get(
        f"/console/review{query}",
        headers={"cookie": browser._cookie()["cookie"], "accept": "application/json"},
    )
    assert reply.status == 200, reply.text
    return [t for t in reply.json["turns"] if t["sender_id"] == "ana"]


async def test_the_turns_worth_a_look_are_queued_with_their_reasons(queued: Console) -> None:
    browser = await queued.sign_in(Role.DESIGNER)
    turns = await queue(browser, queued)
    assert [(t["text"], t["reasons"]) for t in turns] == [
        ("a person please", ["handoff"]),
        ("this is useless", ["negative"]),
        ("do you do finance", ["knowledge_miss"]),
        ("asdfgh", ["fallback"]),
        ("hiya mate", ["low_confidence"]),
    ]
    only = await queue(browser, queued, "?reason=knowledge_miss")
    assert [t["text"] for t in only] == ["do you do finance"]
    page = (await browser.get("/console/review")).text
    assert "knowledge base could not answer" in page and "hiya mate" in page


async def test_a_turn_shows_what_was_understood_and_done(queued: Console) -> None:
    browser = await queued.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/review/ana/100.0")).text
    assert "hiya mate" in page and "<code>greet</code> (0.41)" in page
    assert "<code>inform</code> (0.20)" in page  # the runner-up
    assert "<code>city</code> = Paris" in page and "CRFEntityExtractor" in page
    assert "<code>utter_greet</code>" in page and "TEDPolicy" in page
    assert "Hello! Where are you?" in page
    assert (await browser.get("/console/review/ana/123.0")).status == 404


async def test_a_correction_is_one_added_line_the_designer_saw_first(queued: Console) -> None:
    nlu = queued.app.ctx.state.project / "data" / "nlu.yml"
    browser = await queued.sign_in(Role.DESIGNER)
    preview = (await browser.get("/console/review/ana/100.0/example?intent=greet")).text
    assert "+    - hiya mate" in preview
    assert nlu.read_text() == NLU  # nothing written before it is accepted
    digest = preview.split('name="digest" value="')[1].split('"')[0]
    reply = await browser.post(
        "/console/review/ana/100.0/example", {"intent": "greet", "digest": digest}
    )
    assert reply.status == 303 and reply.headers["location"] == "/console/review?added=greet"
    assert nlu.read_text() == NLU.replace("    - hi there\n", "    - hi there\n    - hiya mate\n")
    assert "hiya mate" not in [t["text"] for t in await queue(browser, queued)]
    (done,) = await queue(browser, queued, "?reviewed=1")
    assert done["outcome"] == "example:greet" and done["by"] == "designer@example.com"
    audit = (await (await queued.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "nlu_example" in audit


async def test_a_new_intent_of_the_domain_gets_its_own_block(queued: Console) -> None:
    browser = await queued.sign_in(Role.ADMIN)
    reply = await browser.post("/console/review/ana/200.0/example", {"intent": "inform"})
    assert reply.status == 303
    nlu = (queued.app.ctx.state.project / "data" / "nlu.yml").read_text()
    assert nlu == NLU + "\n- intent: inform\n  examples: |\n    - asdfgh\n"


async def test_a_turn_looked_at_leaves_the_queue(queued: Console) -> None:
    browser = await queued.sign_in(Role.DESIGNER)
    assert (await browser.post("/console/review/ana/400.0/reviewed")).status == 303
    assert "this is useless" not in [t["text"] for t in await queue(browser, queued)]
    nlu = queued.app.ctx.state.project / "data" / "nlu.yml"
    assert nlu.read_text() == NLU


async def test_a_stale_or_wrong_correction_is_refused_and_nothing_written(
    queued: Console,
) -> None:
    nlu = queued.app.ctx.state.project / "data" / "nlu.yml"
    browser = await queued.sign_in(Role.DESIGNER)
    preview = (await browser.get("/console/review/ana/100.0/example?intent=greet")).text
    digest = preview.split('name="digest" value="')[1].split('"')[0]
    write(nlu, NLU.replace("    - bye\n", "    - bye\n    - cya\n"))  # changed meanwhile
    stale = await browser.post(
        "/console/review/ana/100.0/example", {"intent": "greet", "digest": digest}
    )
    assert stale.status == 409 and "changed since the correction was shown" in stale.text
    assert "hiya mate" not in nlu.read_text()
    unknown = await browser.get("/console/review/ana/100.0/example?intent=order_pizza")
    assert unknown.status == 400
    assert (await browser.get("/console/review?reason=bogus")).status == 400


TEST_STORIES = """\
version: "3.1"
# Conversations the assistant must keep getting right.
stories:
  - story: a greeting
    steps:
      - user: |
          hello
        intent: greet
      - action: utter_greet
"""


async def test_a_conversation_is_saved_as_a_test_story_after_the_last_one(
    console: Console,
) -> None:
    stories = console.app.ctx.state.project / "tests" / "test_stories.yml"
    write(stories, TEST_STORIES)
    await console.customer_says("bo", "hello")
    browser = await console.sign_in(Role.DESIGNER)
    preview = (await browser.get("/console/conversations/bo/test-story")).text
    assert "+  - story: bo (from the console)" in preview
    assert stories.read_text() == TEST_STORIES  # nothing written before it is accepted
    digest = preview.split('name="digest" value="')[1].split('"')[0]
    saved = await browser.post("/console/conversations/bo/test-story", {"digest": digest})
    assert saved.status == 303 and "saved_story=" in saved.headers["location"]
    text = stories.read_text()
    assert text.startswith(TEST_STORIES)  # the designer's stories and comments untouched
    added = text.removeprefix(TEST_STORIES)
    assert added.startswith("\n  - story: bo (from the console)\n    steps:\n")
    read = yaml.safe_load(text)["stories"]
    assert [s["story"] for s in read] == ["a greeting", "bo (from the console)"]
    assert read[1]["steps"][0] == {"user": "hello", "intent": "greet"}
    # Saved again: a story of its own, never a second one with the same name.
    again = (await browser.get("/console/conversations/bo/test-story")).text
    assert "bo (from the console, 2)" in again
    page = (await browser.get(saved.headers["location"])).text
    assert "Saved as the test story" in page


async def test_marked_words_are_written_as_entities_of_the_example(queued: Console) -> None:
    """The page starts from the entities the NLU found in the message's own words; the
    designer's marks ("start:end:entity", in characters) are written in Rasa's markup."""
    entity = {"entity": "city", "value": "Paris", "start": 12, "end": 17}
    message = UserUttered(
        "moving to 🗼 Paris soon",
        intent={"name": "inform", "confidence": 0.4},
        entities=[entity],
        timestamp=900.0,
    )
    await queued.app.ctx.state.agent.append_events("ana", [message])
    nlu = queued.app.ctx.state.project / "data" / "nlu.yml"
    browser = await queued.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/review/ana/900.0")).text
    assert 'name="marks" value="12:17:city"' in page and "data-marking" in page
    preview = (
        await browser.get("/console/review/ana/900.0/example?intent=greet&marks=12:17:city")
    ).text
    assert "+    - moving to 🗼 [Paris](city) soon" in preview
    digest = preview.split('name="digest" value="')[1].split('"')[0]
    reply = await browser.post(
        "/console/review/ana/900.0/example",
        {"intent": "greet", "digest": digest, "marks": "12:17:city"},
    )
    assert reply.status == 303
    assert "    - moving to 🗼 [Paris](city) soon\n" in nlu.read_text()
    for marks, problem in [
        ("12:17:planet", "is not an entity of the domain"),
        ("12:40:city", "outside the message"),
        ("10:15:city,12:17:city", "overlap"),
        ("one:two", "is not a marked span"),
    ]:
        wrong = await browser.get(f"/console/review/ana/900.0/example?intent=greet&marks={marks}")
        assert wrong.status == 400 and problem in wrong.text, marks


RULES = """\
version: "3.1"
# The assistant's rules: one intent, one answer.
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
"""


async def test_the_next_action_is_taught_as_a_rule_in_the_rules_file(queued: Console) -> None:
    """ "After this intent, do that": a rule at the end of the file that holds the rules,
    shown first, the turn then reviewed with the action it was taught."""
    project: Path = queued.app.ctx.state.project
    rules = project / "data" / "rules.yml"
    write(rules, RULES)
    browser = await queued.sign_in(Role.DESIGNER)
    page = (await browser.get("/console/review/ana/400.0")).text
    assert "<option>utter_goodbye</option>" in page and 'value="rule" checked' in page
    query = "intent=goodbye&action=utter_goodbye&kind=rule"
    preview = (await browser.get(f"/console/review/ana/400.0/action?{query}")).text
    assert "+- rule: goodbye then utter_goodbye (from the console)" in preview
    assert rules.read_text() == RULES  # nothing written before it is accepted
    reply = await browser.post(
        "/console/review/ana/400.0/action",
        {
            "intent": "goodbye",
            "action": "utter_goodbye",
            "kind": "rule",
            "digest": digest_in(preview),
        },
    )
    assert (
        reply.status == 303 and reply.headers["location"] == "/console/review?taught=utter_goodbye"
    )
    text = rules.read_text()
    assert text.startswith(RULES)  # the designer's rules and comment untouched
    assert text.removeprefix(RULES) == (
        "\n- rule: goodbye then utter_goodbye (from the console)\n"
        "  steps:\n  - intent: goodbye\n  - action: utter_goodbye\n"
    )
    (rule,) = [r for r in Project(project).rules if r.name.startswith("goodbye then")]
    (intent, action) = [e for e, _ in rule.all_events()]
    assert isinstance(intent, UserUttered) and intent.intent_name == "goodbye"
    assert isinstance(action, ActionExecuted) and action.action_name == "utter_goodbye"
    (done,) = await queue(browser, queued, "?reviewed=1")
    assert done["outcome"] == "action:utter_goodbye"
    audit = (await (await queued.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "next_action_rule" in audit
    # Taught again: a rule of its own name, never a second one with the same name.
    again = (await browser.get(f"/console/review/ana/300.0/action?{query}")).text
    assert "(from the console, 2)" in again


async def test_the_next_action_is_taught_as_the_conversation_so_far(queued: Console) -> None:
    """A story: the session's turns up to the message (read as the intent chosen), the
    entities it had, then the action; in a new stories file when the project has none."""
    project: Path = queued.app.ctx.state.project
    browser = await queued.sign_in(Role.DESIGNER)
    reply = await browser.post(
        "/console/review/ana/300.0/action",
        {"intent": "inform", "action": "utter_city", "kind": "story"},
    )
    assert reply.status == 303
    written = yaml.safe_load((project / "data" / "stories.yml").read_text())
    (story,) = written["stories"]
    assert story["story"] == "ana then utter_city (from the console)"
    paris = {"entities": [{"city": "Paris"}]}
    assert story["steps"] == [
        {"intent": "greet", **paris},
        {"action": "utter_greet"},
        {"intent": "nlu_fallback", **paris},
        {"intent": "inform", **paris},
        {"action": "utter_city"},
    ]
    assert [s.name for s in Project(project).stories] == [story["story"]]


async def test_a_next_action_not_in_the_domain_or_a_stale_file_is_refused(
    queued: Console,
) -> None:
    project: Path = queued.app.ctx.state.project
    rules = project / "data" / "rules.yml"
    write(rules, RULES)
    browser = await queued.sign_in(Role.DESIGNER)
    base = "/console/review/ana/400.0/action"
    for query, problem in [
        ("intent=greet&action=utter_dance&kind=rule", "'utter_dance' is not an action"),
        ("intent=dance&action=utter_greet&kind=rule", "'dance' is not an intent"),
        ("intent=greet&action=utter_greet&kind=poem", "'poem' is not one of rule, story"),
        ("intent=greet&action=action_listen&kind=rule", "is not an action"),
    ]:
        wrong = await browser.get(f"{base}?{query}")
        assert wrong.status == 400 and problem in wrong.text, query
    preview = (await browser.get(f"{base}?intent=goodbye&action=utter_goodbye")).text
    write(rules, RULES + "# changed meanwhile\n")
    stale = await browser.post(
        base,
        {
            "intent": "goodbye",
            "action": "utter_goodbye",
            "kind": "rule",
            "digest": digest_in(preview),
        },
    )
    assert stale.status == 409 and "changed since the correction was shown" in stale.text
    assert rules.read_text() == RULES + "# changed meanwhile\n"


async def test_a_taught_rule_is_what_the_assistant_does_after_the_next_training(
    queued: Console, tmp_path: Path
) -> None:
    """The small assistant without its city rule says nothing to "I am in Paris"; taught
    from the console that `utter_city` follows `inform`, and trained, it answers."""
    project: Path = queued.app.ctx.state.project
    write(project / "config.yml", small_assistant.CONFIG)
    write(project / "data" / "nlu.yml", small_assistant.NLU)
    city_rule = "  - rule: city\n    steps:\n      - intent: inform\n      - action: utter_city\n"
    write(project / "data" / "rules.yml", small_assistant.RULES.replace(city_rule, ""))
    before = Agent.load(train(Project(project), tmp_path / "before").archive)
    assert await before.handle_text("I am in Paris", "one") == []
    browser = await queued.sign_in(Role.DESIGNER)
    taught = {"intent": "inform", "action": "utter_city", "kind": "rule"}
    assert (await browser.post("/console/review/ana/300.0/action", taught)).status == 303
    after = Agent.load(train(Project(project), tmp_path / "after").archive)
    replies = await after.handle_text("I am in Paris", "two")
    assert [r["text"] for r in replies] == ["You are in Paris."]
