"""Optional parts come with an extra (`pip install 'parlez[postgres]'`): a project that uses
one that is not installed is told which extra to install, and pyproject.toml's extras are
the ones parlez names."""

from __future__ import annotations

import sys
import tomllib

import pytest
from sqlalchemy.engine import URL

from parlez.endpoints import EndpointConfig
from parlez.extras import EXTRAS, MissingExtraError
from parlez.llm import llm_from_endpoint
from parlez.stores.engine import make_engine
from parlez.stores.lock_store import RedisLockStore
from tests.conftest import REPO


def missing(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """As if `modules` were not installed: importing one raises ImportError."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_postgresql_without_its_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    missing(monkeypatch, "asyncpg")
    with pytest.raises(MissingExtraError) as refused:
        make_engine(URL.create("postgresql+asyncpg", host="db", database="rasa"))
    assert refused.value.hint == "pip install 'parlez[postgres]'"
    assert "PostgreSQL" in refused.value.message


def test_an_llm_or_a_redis_lock_without_its_sdk_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing(monkeypatch, "anthropic", "redis", "redis.asyncio")
    with pytest.raises(MissingExtraError, match="type 'anthropic'") as refused:
        llm_from_endpoint(EndpointConfig(type="anthropic", kwargs={"api_key": "k"}))
    assert refused.value.hint == "pip install 'parlez[llm]'"
    with pytest.raises(MissingExtraError) as refused:
        RedisLockStore(EndpointConfig(type="redis", url="localhost"))
    assert refused.value.hint == "pip install 'parlez[redis]'"


def test_every_extra_parlez_names_is_declared_and_none_is_a_core_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(EXTRAS.values()) <= set(extras)
    core = " ".join(project["dependencies"]).lower()
    for extra in set(EXTRAS.values()):
        for requirement in extras[extra]:
            assert requirement.split(">")[0].split("=")[0].lower() not in core, requirement
    # `make run` installs the assistant's extras, `make test` all of them
    assert extras["assistant"] == ["parlez[duckling,llm,caldav,languages,voice]"]
    assert extras["dev"][0].startswith("parlez[all")
