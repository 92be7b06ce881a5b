"""`${VAR}` substitution in configuration files, as Rasa does for its YAML files, and the
secrets the console sealed in them (`fernet:...`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from parlez.exceptions import Location, MissingEnvironmentVariableError
from parlez.io.secrets import is_sealed, unseal
from parlez.io.yaml import YamlMap, YamlSeq, where

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def expand(text: str, at: Location | None = None, env: Mapping[str, str] | None = None) -> str:
    """Replace every `${VAR}` in `text`; an unset variable is an error naming it.

    `${VAR:-default}` gives `default` (possibly empty) when VAR is unset or empty, so an
    optional secret (an LLM key) can be left out without an error. A value sealed by the
    console (`fernet:...`, `parlez.io.secrets`) is opened with `PARLEZ_SECRET_KEY`.
    """
    env = os.environ if env is None else env
    if is_sealed(text):
        return unseal(text, at, env)
    if "${" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        name, has_default, default = match.group(1).partition(":-")
        name = name.strip()
        if has_default:
            return env.get(name) or default
        if name not in env:
            raise MissingEnvironmentVariableError(
                f"environment variable '{name}' is not set (used as '{match.group(0)}')",
                at,
                hint=f"export {name}=... before running parlez, or write the value instead",
            )
        return env[name]

    return _VARIABLE.sub(substitute, text)


def expand_all(data: Any, env: Mapping[str, str] | None = None) -> Any:
    """Substitute variables in every string value of a parsed YAML document, in place."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str):
                data[key] = expand(value, where(data, key, value=True), env)
            else:
                expand_all(value, env)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, str):
                data[index] = expand(value, where(data, index), env)
            else:
                expand_all(value, env)
    return data


__all__ = ["YamlMap", "YamlSeq", "expand", "expand_all"]
