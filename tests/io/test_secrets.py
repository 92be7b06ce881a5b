"""Secrets sealed in the project's files: opened where `${VAR}` is expanded with the key
from the environment, and a clear error naming the file when the key is missing or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.endpoints import Endpoints
from parlez.io.secrets import KEY_ENV, SecretError, new_key, seal, unseal


def test_a_sealed_secret_is_opened_with_its_key_and_holds_no_plain_text() -> None:
    key = new_key()
    sealed = seal("s3cret pässword", {KEY_ENV: key})
    assert sealed.startswith("fernet:") and "s3cret" not in sealed
    assert unseal(sealed, env={KEY_ENV: key}) == "s3cret pässword"
    assert unseal("plain", env={}) == "plain"  # anything else is what it is


def test_a_missing_or_wrong_key_is_a_clear_error() -> None:
    sealed = seal("token", {KEY_ENV: new_key()})
    with pytest.raises(SecretError, match="PARLEZ_SECRET_KEY is not set"):
        unseal(sealed, env={})
    with pytest.raises(SecretError, match="sealed with another key"):
        unseal(sealed, env={KEY_ENV: new_key()})
    with pytest.raises(SecretError, match="is not a Fernet key"):
        unseal(sealed, env={KEY_ENV: "not a key"})


def test_the_files_parlez_reads_open_their_sealed_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv(KEY_ENV, key)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"llm:\n  type: anthropic\n  api_key: {seal('sk-ant-123', {KEY_ENV: key})}\n",
        encoding="utf-8",
    )
    assert Endpoints.load(endpoints).llm.kwargs["api_key"] == "sk-ant-123"  # type: ignore[union-attr]
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(SecretError) as raised:
        Endpoints.load(endpoints)
    # the file, line and column of the sealed value
    assert str(raised.value).startswith(f"{endpoints}:3:12: a secret is sealed but")
