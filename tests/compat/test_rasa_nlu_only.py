"""NLU on its own, as Rasa allows: `parlez train nlu` with a config and NLU data and no
domain (an ML engineer evaluating a data set), and that NLU-only model served, with
`/model/parse` answering and messages kept unanswered (an NLU service behind another
dialogue engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.agent import Agent
from parlez.channels.rest import RestInput
from parlez.cli.main import main
from parlez.diagnostics import collect
from parlez.server.app import create_app
from parlez.server.auth import Auth
from parlez.server.state import ServerState
from parlez.stores.sql import SQLTrackerStore

pytestmark = pytest.mark.anyio

CONFIG = """language: en
pipeline:
- name: WhitespaceTokenizer
- name: CountVectorsFeaturizer
- name: LogisticRegressionClassifier
"""
NLU = """nlu:
- intent: greet
  examples: |
    - hi
    - hello
    - hello there
- intent: bye
  examples: |
    - bye
    - see you
    - goodbye
"""


@pytest.fixture
def nlu_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config.yml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "data.yml").write_text(NLU, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with collect():
        assert main(["train", "nlu", "--config", "config.yml", "--nlu", "data.yml"]) == 0
    assert not (tmp_path / "domain.yml").exists()
    (model,) = (tmp_path / "models").glob("nlu-*.tar.gz")
    return model


async def test_an_nlu_only_model_parses_and_keeps_messages_unanswered(
    nlu_model: Path, tmp_path: Path
) -> None:
    store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
    agent = Agent.load(nlu_model, tracker_store=store)
    state = ServerState(
        agent=agent,
        tracker_store=store,
        models=nlu_model.parent,
        auth=Auth(),
        channels=[RestInput()],
    )
    app = create_app(state, enable_api=True)
    _, parsed = await app.asgi_client.post("/model/parse", json={"text": "hello there"})
    assert parsed.status == 200 and parsed.json["intent"]["name"] == "greet"
    with collect() as warnings:
        _, replied = await app.asgi_client.post(
            "/webhooks/rest/webhook", json={"sender": "ml", "message": "see you"}
        )
    assert replied.status == 200 and replied.json == []
    assert [w.code for w in warnings] == ["P322"]
    _, tracker = await app.asgi_client.get("/conversations/ml/tracker")
    assert tracker.json["latest_message"]["intent"]["name"] == "bye"
