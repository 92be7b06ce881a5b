"""A/B tests end to end: a greeting in two variants behind an experiment slot, customers
split between them, and a report that finds a truly better arm and, between identical arms,
finds a difference no more often than the false-positive rate it states."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parlez.agent import Agent
from parlez.channels.rest import RestInput
from parlez.console.analytics.experiments import Verdict, analyse, wilson
from parlez.console.database import ConsoleDatabase
from parlez.console.roles import Role
from parlez.events import ExperimentAssigned
from parlez.experiments import Experiments
from parlez.io.edit import digest_of
from parlez.project import Project
from parlez.server.app import create_app
from parlez.server.state import ServerState
from parlez.stores.sql import SQLTrackerStore
from parlez.training import train
from tests import small_assistant
from tests.conftest import write
from tests.console.conftest import PASSWORD, Console, email

pytestmark = pytest.mark.anyio

#: the small assistant's greeting in two variants, chosen on the experiment's slot
GREETINGS = """\
  utter_greet:
    - text: "Hello! Where are you?"
      condition:
        - type: slot
          name: experiment_greeting
          value: a
    - text: "Hi there, which city are you in?"
      condition:
        - type: slot
          name: experiment_greeting
          value: b
"""
SLOT = """\
  experiment_greeting:
    type: categorical
    values: [a, b]
    influence_conversation: false
    mappings: [{type: custom}]
"""
EXPERIMENTS = """\
experiments:
  greeting:
    arms: [a, b]
    metric: resolved
    min_sample: 10
"""


@pytest.fixture(scope="module")
def greeting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small assistant with its greeting under test."""
    root = tmp_path_factory.mktemp("greeting-experiment")
    domain = small_assistant.DOMAIN.replace(
        'responses:\n  utter_greet:\n    - text: "Hello! Where are you?"\n'
        "      buttons:\n        - title: Paris\n"
        '          payload: \'/inform{"city": "Paris"}\'\n',
        "responses:\n" + GREETINGS,
    ).replace("slots:\n", "slots:\n" + SLOT)
    assert "Hi there" in domain and "experiment_greeting:" in domain
    write(root / "domain.yml", domain)
    write(root / "config.yml", small_assistant.CONFIG)
    write(root / "data" / "nlu.yml", small_assistant.NLU)
    write(root / "data" / "rules.yml", small_assistant.RULES)
    return train(Project(root), root / "models").archive


@pytest.fixture
async def experimenting(greeting_model: Path, tmp_path: Path) -> Any:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = Path(shutil.copy(greeting_model, project / "models" / greeting_model.name))
    write(project / "experiments.yml", EXPERIMENTS)
    write(project / "analytics.yml", "timezone: UTC\n")
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
    database = ConsoleDatabase(store.engine)
    for role in Role:
        await database.add_user(email(role), PASSWORD, role)
    state = ServerState(
        agent=Agent.load(model, tracker_store=store),
        tracker_store=store,
        channels=[RestInput()],
        console=database,
        project=project,
        models=project / "models",
        experiments=Experiments.load(project),
    )
    made = Console(create_app(state), database)
    yield made
    await made.close()


async def test_two_greetings_split_the_customers_and_the_report_shows_both_arms(
    experimenting: Console,
) -> None:
    experiment = experimenting.app.ctx.state.experiments.named("greeting")
    said: dict[str, set[str]] = {"a": set(), "b": set()}
    for n in range(30):
        sender = f"visitor-{n}"
        replies = await experimenting.customer_says(sender, "hello")
        said[experiment.arm_for(sender)].add(replies[0]["text"])
    # Each arm saw its own greeting, and only it.
    assert said == {"a": {"Hello! Where are you?"}, "b": {"Hi there, which city are you in?"}}
    tracker = await experimenting.app.ctx.state.agent.retrieve("visitor-0")
    assigned = [e for e in tracker.events if isinstance(e, ExperimentAssigned)]
    assert assigned == [ExperimentAssigned("greeting", experiment.arm_for("visitor-0"))]
    assert tracker.get_slot("experiment_greeting") == experiment.arm_for("visitor-0")
    # The same customer stays in the arm when they come back.
    again = await experimenting.customer_says("visitor-0", "hello")
    assert again[0]["text"] in said[experiment.arm_for("visitor-0")]

    viewer = await experimenting.sign_in(Role.VIEWER)
    reply = await viewer.get("/console/reports/experiments")
    assert reply.status == 200
    for arm in ("a", "b"):
        assert f"<td>{arm}</td>" in reply.text
    _, answered = await experimenting.app.asgi_client.get(
        "/console/reports/experiments",
        headers={**viewer._cookie(), "accept": "application/json"},
    )
    found = answered.json["experiments"][0]
    arms = {a["arm"]: a["conversations"] for a in found["arms"]}
    assert sum(arms.values()) == 30 and all(arms.values())
    assert found["verdict"] in (Verdict.BETTER, Verdict.NO_DIFFERENCE, Verdict.COLLECTING)


async def test_the_experiments_are_edited_in_the_console_and_used_for_new_conversations(
    experimenting: Console,
) -> None:
    """Saved in the console, experiments.yml takes effect without a restart: a stopped
    experiment puts no one in an arm any more, a new one does; a mistake is shown with its
    line and nothing is written; a colleague's change is not overwritten."""
    project = experimenting.app.ctx.state.project
    text = (project / "experiments.yml").read_text()
    owner = await experimenting.sign_in(Role.OWNER)
    page = await owner.get("/console/reports/experiments/edit")
    assert page.status == 200 and "greeting" in page.text
    changed = (
        text.replace("min_sample: 10", "min_sample: 10\n    status: stopped")
        + "  farewell:\n    arms: {short: 50, long: 50}\n    metric: handed_over\n"
    )
    saved = await owner.post(
        "/console/reports/experiments/edit", {"text": changed, "digest": digest_of(text)}
    )
    assert saved.status == 303 and saved.headers["location"].endswith("?saved=1")
    shown = await owner.get(saved.headers["location"])
    assert "New conversations are put in the arms" in shown.text and "(stopped)" in shown.text
    assert (project / "experiments.yml").read_text() == changed
    await experimenting.customer_says("newcomer", "hello")
    tracker = await experimenting.app.ctx.state.agent.retrieve("newcomer")
    assigned = [e.experiment for e in tracker.events if isinstance(e, ExperimentAssigned)]
    assert assigned == ["farewell"]

    broken = await owner.post(
        "/console/reports/experiments/edit",
        {"text": changed + "    metric: sold\n", "digest": digest_of(changed)},
    )
    assert broken.status == 400 and "experiments.yml:" in broken.text
    assert "sold" not in (project / "experiments.yml").read_text()
    stale = await owner.post(
        "/console/reports/experiments/edit", {"text": text, "digest": digest_of(text)}
    )
    assert stale.status == 409 and (project / "experiments.yml").read_text() == changed


async def test_only_those_who_change_settings_may_edit_the_experiments(
    experimenting: Console,
) -> None:
    viewer = await experimenting.sign_in(Role.VIEWER)
    assert "/experiments/edit" not in (await viewer.get("/console/reports/experiments")).text
    assert (await viewer.get("/console/reports/experiments/edit")).status == 403
    refused = await viewer.post(
        "/console/reports/experiments/edit", {"text": "experiments: {}\n", "digest": ""}
    )
    assert refused.status == 403


def simulate(rates: tuple[float, float], n: int, runs: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    return [
        analyse(
            "sim",
            "resolved",
            [("a", n, int(rng.binomial(n, rates[0]))), ("b", n, int(rng.binomial(n, rates[1])))],
            min_sample=n,
            alpha=0.05,
        )
        for _ in range(runs)
    ]


def test_between_identical_arms_a_difference_is_found_at_the_stated_rate() -> None:
    results = simulate((0.3, 0.3), n=400, runs=4000, seed=1)
    false_positives = sum(r.verdict == Verdict.BETTER for r in results) / len(results)
    # alpha is 0.05; 4000 runs put the estimate within about ±0.007 of the true rate.
    assert 0.035 <= false_positives <= 0.065


def test_a_truly_better_arm_is_found_and_never_the_worse_one() -> None:
    results = simulate((0.30, 0.40), n=400, runs=1000, seed=2)
    found = [r for r in results if r.verdict == Verdict.BETTER]
    assert len(found) / len(results) >= 0.75  # the test's power at this size is about 0.84
    assert all(r.best == "b" for r in found)


def test_no_arm_is_named_before_each_has_its_minimum() -> None:
    result = analyse("sim", "resolved", [("a", 50, 10), ("b", 50, 40)], 100, 0.05)
    assert result.verdict == Verdict.COLLECTING and result.best is None
    assert result.needed == {"a": 50, "b": 50}
    assert result.p_value is not None and result.p_value < 0.001  # small, and not read


def test_fewer_handoffs_is_better() -> None:
    result = analyse("sim", "handed_over", [("a", 500, 100), ("b", 500, 50)], 100, 0.05)
    assert result.verdict == Verdict.BETTER and result.best == "b"


def test_wilson_interval() -> None:
    low, high = wilson(30, 100) or (0, 0)
    assert low == pytest.approx(0.2189, abs=1e-3) and high == pytest.approx(0.3958, abs=1e-3)
    assert wilson(0, 0) is None
    low, high = wilson(0, 20) or (1, 1)
    assert low == 0.0 and 0.1 < high < 0.2
