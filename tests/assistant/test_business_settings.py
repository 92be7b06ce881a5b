"""business.yml as the actions read it: a secret the console sealed there is opened with
PARLEZ_SECRET_KEY, and without the key the file is reported like any other mistake in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.business import BusinessSettingsError, business
from parlez.io.secrets import KEY_ENV, new_key, seal


def test_a_sealed_smtp_password_is_opened_for_the_mailer(
    studio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv(KEY_ENV, key)
    settings = studio / "business.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "  type: file\n",
            f"  type: file\n  password: {seal('smtp-pw', {KEY_ENV: key})}\n",
        ),
        encoding="utf-8",
    )
    assert business().email["password"] == "smtp-pw"
    monkeypatch.delenv(KEY_ENV)
    settings.write_text(settings.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(BusinessSettingsError, match="PARLEZ_SECRET_KEY is not set"):
        business()
