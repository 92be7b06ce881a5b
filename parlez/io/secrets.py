"""Secrets kept in the project's own files, encrypted: `fernet:<token>`.

The console writes a secret it is given (an SMTP password, a CRM token, an LLM key) sealed
with the key in `PARLEZ_SECRET_KEY` (a Fernet key: AES-128-CBC with an HMAC, from
`cryptography`), so the file can sit in git and the secret cannot be read from it. The
files are read as before: a `fernet:` value is opened where `${VAR}` is expanded
(`parlez.io.env.expand`). A secret can also stay a `${VAR}` reference, read from the
environment; either way it never goes back to a browser.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken

from parlez.exceptions import Location, ParlezError

#: the environment variable that holds the key
KEY_ENV = "PARLEZ_SECRET_KEY"
PREFIX = "fernet:"
KEY_HINT = (
    f"set {KEY_ENV} to the key the secrets were sealed with "
    "(`parlez console secret-key` makes a new one)"
)


class SecretError(ParlezError):
    code = "P107"


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _fernet(env: Mapping[str, str], at: Location | None) -> Fernet:
    key = env.get(KEY_ENV) or ""
    if not key:
        raise SecretError(f"a secret is sealed but {KEY_ENV} is not set", at, hint=KEY_HINT)
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise SecretError(
            f"{KEY_ENV} is not a Fernet key (32 bytes, URL-safe base64)", at, hint=KEY_HINT
        ) from None


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def can_seal(env: Mapping[str, str] | None = None) -> bool:
    """Whether a secret given now can be sealed (the key is set, and is a key)."""
    try:
        _fernet(os.environ if env is None else env, None)
    except SecretError:
        return False
    return True


def seal(secret: str, env: Mapping[str, str] | None = None) -> str:
    """`secret` as it is written to a file: `fernet:` and its token."""
    token = _fernet(os.environ if env is None else env, None).encrypt(secret.encode("utf-8"))
    return PREFIX + token.decode("ascii")


def unseal(value: str, at: Location | None = None, env: Mapping[str, str] | None = None) -> str:
    """The secret a `fernet:` value holds; anything else is returned as it is."""
    if not is_sealed(value):
        return value
    fernet = _fernet(os.environ if env is None else env, at)
    try:
        return fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretError(
            f"a sealed secret cannot be opened with {KEY_ENV} (sealed with another key, or "
            "changed by hand)",
            at,
            hint="save the secret again from the console with the current key",
        ) from None
