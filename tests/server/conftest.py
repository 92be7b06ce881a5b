"""A small assistant trained once per test session, served by an app built per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from parlez.agent import Agent
from parlez.channels.rest import RestInput
from parlez.project import Project
from parlez.server.app import create_app
from parlez.server.auth import Auth
from parlez.server.state import ServerState
from parlez.stores.sql import SQLTrackerStore
from parlez.training import train
from tests.conftest import write

DOMAIN = """
version: "3.1"
intents: [greet, goodbye, inform]
entities: [city]
slots:
  city:
    type: text
    mappings:
      - type: from_entity
        entity: city
responses:
  utter_greet:
    - text: "Hello! Where are you?"
      buttons:
        - title: Paris
          payload: '/inform{"city": "Paris"}'
  utter_goodbye:
    - text: "Bye"
  utter_city:
    - text: "You are in {city}."
session_config:
  session_expiration_time: 60
  carry_over_slots_to_new_session: true
"""

NLU = """
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hello
      - hi there
      - good morning
      - hey
  - intent: goodbye
    examples: |
      - bye
      - goodbye
      - see you later
      - ciao
  - intent: inform
    examples: |
      - I am in [Paris](city)
      - I live in [Berlin](city)
      - from [Rome](city)
      - [Lisbon](city)
"""

RULES = """
version: "3.1"
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
  - rule: goodbye
    steps:
      - intent: goodbye
      - action: utter_goodbye
  - rule: city
    steps:
      - intent: inform
      - action: utter_city
"""

CONFIG = """
recipe: default.v1
language: en
assistant_id: server_test
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
  - name: RegexEntityExtractor
  - name: CRFEntityExtractor
policies:
  - name: RulePolicy
"""


@pytest.fixture(scope="session")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("server-project")
    write(root / "domain.yml", DOMAIN)
    write(root / "config.yml", CONFIG)
    write(root / "data" / "nlu.yml", NLU)
    write(root / "data" / "rules.yml", RULES)
    return root


@pytest.fixture(scope="session")
def small_model(small_project: Path) -> Path:
    return train(Project(small_project), small_project / "models").archive


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


AppFactory = Callable[..., Sanic[Any, Any]]


@pytest.fixture
def make_app(small_model: Path, tmp_path: Path) -> AppFactory:
    """An app on the small model with a SQLite store in tmp_path; options as `create_app`'s."""

    def make(
        *,
        enable_api: bool = True,
        auth: Auth | None = None,
        loaded: bool = True,
        **options: Any,
    ) -> Sanic[Any, Any]:
        store = SQLTrackerStore(f"sqlite+aiosqlite:///{tmp_path / 'conversations.db'}")
        agent = Agent.load(small_model, tracker_store=store) if loaded else None
        state = ServerState(
            agent=agent,
            tracker_store=store,
            models=small_model.parent,
            auth=auth or Auth(),
            channels=[RestInput()],
            **{k: v for k, v in options.items() if k in ("response_timeout",)},
        )
        return create_app(
            state,
            enable_api=enable_api,
            **{k: v for k, v in options.items() if k in ("cors", "max_body")},
        )

    return make
