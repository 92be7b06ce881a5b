"""A common question and its answer posted to the business's Facebook Page: through the
Graph API's Pages feed (a local fake of it), by owners and admins only, audit-logged, and a
refusal shown with Facebook's own words."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from parlez.console.audience import MarketingFileError
from parlez.console.facebook_page import FacebookPage, PagePostError
from parlez.console.marketing import MarketingConfig
from parlez.console.roles import Role
from parlez.events import BotUttered, UserUttered
from tests import small_assistant
from tests.conftest import REPO, write
from tests.console.conftest import FAQ, Console, add, make_console
from tests.fakes.meta import FakeGraph, fake_graph

pytestmark = pytest.mark.anyio

PAGE = "104123456789012"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with fake_graph(token="page-token") as fake:
        yield fake


@pytest.fixture
async def console(
    small_model: Path, tmp_path: Path, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Console]:
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", "page-token")
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = Path(shutil.copy(small_model, project / "models" / small_model.name))
    write(project / "data" / "kb" / "faq.yml", FAQ)
    write(project / "domain.yml", small_assistant.DOMAIN)
    shutil.copy(REPO / "business.yml", project / "business.yml")
    write(
        project / "marketing.yml",
        f'facebook_page:\n  page_id: "{PAGE}"\n  access_token: ${{FACEBOOK_PAGE_TOKEN}}\n'
        f"  url: {graph.url}\n",
    )
    made = await make_console(model, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", project=project)
    yield made
    await made.close()


async def test_an_admin_posts_a_common_question_and_its_answer(
    console: Console, graph: FakeGraph
) -> None:
    now = time.time()
    await add(
        console.app.ctx.state.agent.tracker_store,
        "v1",
        UserUttered("Is there parking?", {"name": "ask_kb", "confidence": 0.9}, timestamp=now),
        BotUttered("Yes, the Maple Street car park.", timestamp=now + 1),
    )
    admin = await console.sign_in(Role.ADMIN)
    page = (await admin.get("/console/reports/questions")).text
    assert "Post to the Facebook Page" in page
    assert "Is there parking?\n\nYes, the Maple Street car park.</textarea>" in page
    posted = await admin.post(
        "/console/reports/questions/post",
        {"message": "Is there parking?\n\nYes, the Maple Street car park."},
    )
    assert posted.status == 303 and "posted=" in posted.headers["location"]
    assert graph.posts(PAGE) == [
        {"message": "Is there parking?\n\nYes, the Maple Street car park."}
    ]
    audit = await console.database.audit()
    assert audit[0]["action"] == "post_faq" and audit[0]["target"] == f"{PAGE}_1"
    # Agents and designers read the questions; they do not post for the business.
    agent = await console.sign_in(Role.AGENT)
    assert "Post to the Facebook Page" not in (await agent.get("/console/reports/questions")).text
    assert (await agent.post("/console/reports/questions/post", {"message": "x"})).status == 403


async def test_a_refusal_is_shown_with_facebooks_words(console: Console, graph: FakeGraph) -> None:
    graph.token = "another-token"  # the Page's token was revoked
    admin = await console.sign_in(Role.ADMIN)
    refused = await admin.post("/console/reports/questions/post", {"message": "Hello"})
    assert refused.status == 303
    shown = (await admin.get(refused.headers["location"])).text
    assert "Facebook refused the post (400): Invalid OAuth access token." in shown
    assert (await admin.post("/console/reports/questions/post", {"message": " "})).status == 400
    link = {"message": "Hi", "link": "javascript:alert(1)"}
    assert (await admin.post("/console/reports/questions/post", link)).status == 400


async def test_a_page_that_cannot_be_reached_is_an_error_not_a_crash() -> None:
    page = FacebookPage(PAGE, "t", url="http://127.0.0.1:9")
    with pytest.raises(PagePostError, match="could not be reached"):
        await page.post("Hello")


def test_a_wrong_page_setting_names_its_line() -> None:
    with pytest.raises(MarketingFileError, match="needs 'access_token'") as raised:
        MarketingConfig.from_text('facebook_page:\n  page_id: "1"\n')
    assert raised.value.where is not None and raised.value.where.line == 2
    numbered = MarketingConfig.from_text("facebook_page:\n  page_id: 12\n  access_token: t\n")
    assert numbered.facebook_page is not None and numbered.facebook_page.page_id == "12"
