"""Fixtures that build small real projects on disk."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from parlez.project import Project
from tests import small_assistant
from tests.services import (
    Postgres,
    RabbitMQ,
    Radicale,
    Redis,
    start_postgres,
    start_rabbitmq,
    start_radicale,
    start_redis,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

ProjectFactory = Callable[..., Project]

MINIMAL_DOMAIN = """
version: "3.1"
intents:
  - greet
responses:
  utter_greet:
    - text: hi
"""


def pytest_configure(config: pytest.Config) -> None:
    """The suite keeps what parlez caches (the compiled encoder) in a folder of its own,
    shared by its tests and the servers they start, and not in the home folder."""
    if "PARLEZ_CACHE_DIR" not in os.environ:
        os.environ["PARLEZ_CACHE_DIR"] = _SUITE_CACHE = tempfile.mkdtemp(prefix="parlez-cache-")
        config.add_cleanup(lambda: shutil.rmtree(_SUITE_CACHE, ignore_errors=True))


@pytest.fixture(autouse=True)
def served_project_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server run in the tests' own process says which project it serves in the
    environment (for its in-process actions); the next test starts without it."""
    for name in ("PARLEZ_PROJECT", "PARLEZ_ENDPOINTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def recorded() -> Iterator[Any]:
    """The spans parlez records meanwhile (`tracing:` set up with an in-memory exporter)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from parlez import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.shutdown()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def tmp_project(tmp_path: Path) -> ProjectFactory:
    """Write the given files into a fresh project folder and return the Project."""

    def make(
        *,
        domain: str = MINIMAL_DOMAIN,
        nlu: str | None = None,
        stories: str | None = None,
        rules: str | None = None,
        config: str | None = None,
        files: dict[str, str] | None = None,
    ) -> Project:
        write(tmp_path / "domain.yml", domain)
        if config is not None:
            write(tmp_path / "config.yml", config)
        for name, content in (("nlu.yml", nlu), ("stories.yml", stories), ("rules.yml", rules)):
            if content is not None:
                write(tmp_path / "data" / name, content)
        for name, content in (files or {}).items():
            write(tmp_path / name, content)
        return Project(tmp_path)

    return make


def nlu_file(body: str) -> str:
    return 'version: "3.1"\nnlu:\n' + textwrap.dedent(body).lstrip("\n")


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    yield from start_postgres(tmp_path_factory.mktemp("postgres"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    yield from start_redis(tmp_path_factory.mktemp("redis"))


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQ]:
    yield from start_rabbitmq(tmp_path_factory.mktemp("rabbitmq"))


@pytest.fixture(scope="session")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small assistant's files, written once per test run."""
    root = tmp_path_factory.mktemp("small-assistant")
    write(root / "domain.yml", small_assistant.DOMAIN)
    write(root / "config.yml", small_assistant.CONFIG)
    write(root / "data" / "nlu.yml", small_assistant.NLU)
    write(root / "data" / "rules.yml", small_assistant.RULES)
    return root


@pytest.fixture(scope="session")
def small_model(small_project: Path) -> Path:
    from parlez.training import train

    return train(Project(small_project), small_project / "models").archive


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, as the server does."""
    return "asyncio"


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    yield from start_radicale(tmp_path_factory.mktemp("radicale"))


@pytest.fixture(scope="session")
def assistant_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's assistant trained once for the tests that serve it."""
    from parlez.training import train

    models = tmp_path_factory.mktemp("assistant-models")
    train(Project(REPO), models)
    return models
