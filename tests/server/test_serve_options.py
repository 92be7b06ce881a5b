"""What `parlez run` serves: channels from credentials.yml or --connector, a model or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.channels.rest import RestInput
from parlez.channels.socketio import SocketIOInput
from parlez.server.run import ServeOptions, build_state, find_or_train_model, input_channels
from tests.conftest import write


def test_credentials_name_the_channels(tmp_path: Path) -> None:
    write(tmp_path / "credentials.yml", "rest:\nsocketio:\n  session_persistence: true\n")
    channels = input_channels(ServeOptions(project=tmp_path))
    assert [type(c) for c in channels] == [RestInput, SocketIOInput]


def test_connector_serves_one_channel_with_its_credentials(tmp_path: Path) -> None:
    write(tmp_path / "credentials.yml", "rest:\nsocketio:\n  bot_message_evt: bot_says\n")
    (channel,) = input_channels(ServeOptions(project=tmp_path, connector="socketio"))
    assert isinstance(channel, SocketIOInput) and channel.bot_message_evt == "bot_says"


def test_no_credentials_serve_the_rest_channel(tmp_path: Path) -> None:
    assert [type(c) for c in input_channels(ServeOptions(project=tmp_path))] == [RestInput]


def test_without_model_or_project_the_server_starts_empty(tmp_path: Path) -> None:
    options = ServeOptions(project=tmp_path, model=tmp_path / "models")
    assert find_or_train_model(options, say=lambda _: None) is None
    state = build_state(options, say=lambda _: None)
    assert state.agent is None


def test_no_train_does_not_train(small_project: Path, tmp_path: Path) -> None:
    options = ServeOptions(project=small_project, model=tmp_path / "empty", train_if_missing=False)
    assert find_or_train_model(options, say=lambda _: None) is None


def test_an_existing_model_is_served(small_model: Path, small_project: Path) -> None:
    said: list[str] = []
    state = build_state(
        ServeOptions(project=small_project, model=small_model.parent), say=said.append
    )
    assert state.agent is not None and state.agent.model == small_model
    assert said == []


@pytest.mark.parametrize("bad", ["socketoi", "my.missing.Channel"])
def test_a_bad_connector_is_a_clear_error(tmp_path: Path, bad: str) -> None:
    from parlez.channels.channel import ChannelConfigError

    with pytest.raises(ChannelConfigError):
        input_channels(ServeOptions(project=tmp_path, connector=bad))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::"])
def test_the_api_is_not_served_to_the_network_without_credentials(host: str) -> None:
    from parlez.server.run import OpenApiError, check_exposure

    with pytest.raises(OpenApiError) as caught:
        check_exposure(ServeOptions(host=host, enable_api=True))
    assert caught.value.code == "P330" and "--insecure-no-auth" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "options",
    [
        ServeOptions(host="127.0.0.1", enable_api=True),
        ServeOptions(host="localhost", enable_api=True),
        ServeOptions(host="::1", enable_api=True),
        ServeOptions(host="0.0.0.0", enable_api=True, auth_token="t"),
        ServeOptions(host="0.0.0.0", enable_api=True, jwt_secret="s"),
        ServeOptions(host="0.0.0.0", enable_api=True, insecure_no_auth=True),
        ServeOptions(host="0.0.0.0"),
    ],
)
def test_the_api_may_be_served_on_loopback_with_credentials_or_when_asked(
    options: ServeOptions,
) -> None:
    from parlez.server.run import check_exposure

    check_exposure(options)


def test_a_shared_postgresql_store_without_a_lock_store_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from parlez.server.run import check_lock_store
    from parlez.server.state import ServerState
    from parlez.stores.sql import SQLTrackerStore

    shared = SQLTrackerStore("postgresql+asyncpg://u@127.0.0.1:1/db")
    with caplog.at_level("WARNING"):
        check_lock_store(ServerState(agent=None, tracker_store=shared))
    assert "PostgreSQL" in caplog.text and "lock_store:" in caplog.text
    caplog.clear()
    local = SQLTrackerStore("sqlite+aiosqlite:///:memory:")
    with caplog.at_level("WARNING"):
        check_lock_store(ServerState(agent=None, tracker_store=local))
    assert "lock_store:" not in caplog.text
