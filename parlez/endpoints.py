"""endpoints.yml and credentials.yml: where parlez finds services, and channel secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez.exceptions import Location, SchemaError, relative
from parlez.io.env import expand_all
from parlez.io.yaml import document_start, read_yaml_file, where

ENDPOINT_KEYS = {
    "action_endpoint",
    "nlg",
    "models",
    "tracker_store",
    "lock_store",
    "event_broker",
    "llm",
    "tracing",
    "model_groups",
    "vector_store",
    "console",
    "jobs",
}


@dataclass
class EndpointConfig:
    """One configured service: a URL and/or a `type` plus its other keys, as Rasa keeps them."""

    url: str | None = None
    type: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    token_name: str = "token"
    basic_auth: dict[str, str] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> EndpointConfig:
        known = {"url", "type", "params", "headers", "token", "token_name", "basic_auth"}
        return cls(
            url=raw.get("url"),
            type=raw.get("type"),
            params=dict(raw.get("params") or {}),
            headers=dict(raw.get("headers") or {}),
            token=raw.get("token"),
            token_name=str(raw.get("token_name", "token")),
            basic_auth=raw.get("basic_auth"),
            kwargs={k: v for k, v in raw.items() if k not in known},
        )

    def query_params(self) -> dict[str, Any]:
        """The query parameters of every request: `params`, plus the `token` under its name."""
        params = dict(self.params)
        if self.token:
            params[self.token_name] = self.token
        return params

    def auth(self) -> tuple[str, str] | None:
        if not self.basic_auth:
            return None
        return (
            str(self.basic_auth.get("username", "")),
            str(self.basic_auth.get("password", "")),
        )


@dataclass
class Endpoints:
    action: EndpointConfig | None = None
    nlg: EndpointConfig | None = None
    models: EndpointConfig | None = None
    tracker_store: EndpointConfig | None = None
    lock_store: EndpointConfig | None = None
    event_broker: EndpointConfig | None = None
    llm: EndpointConfig | None = None
    #: where OpenTelemetry traces go (parlez/tracing.py)
    tracing: EndpointConfig | None = None
    #: `action_endpoint: {actions_module: actions}` runs custom actions in-process
    actions_module: str | None = None
    #: the console's settings (`sso:`), as written: parlez/console/sso.py reads them
    console: dict[str, Any] | None = None
    #: the project's repeated work (`jobs:`), as written: parlez/jobs/project_jobs.py reads it
    jobs: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: Path | str) -> Endpoints:
        p = Path(path)
        if not p.exists():
            return cls()
        raw = read_yaml_file(p)
        at = Location(relative(p))
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise SchemaError(
                "endpoints.yml must be a mapping such as 'action_endpoint:'",
                document_start(raw, at),
            )
        expand_all(raw)
        endpoints = cls()
        for key, value in raw.items():
            if key not in ENDPOINT_KEYS:
                continue  # Rasa ignores keys it does not know; so do we
            if value is None:
                continue
            if not isinstance(value, dict):
                raise SchemaError(
                    f"'{key}' must be a mapping such as 'url: ...'", where(raw, key) or at
                )
            if key == "action_endpoint" and "actions_module" in value:
                endpoints.actions_module = str(value["actions_module"])
                continue
            if key in ("console", "jobs"):
                setattr(endpoints, key, value)
                continue
            name = "action" if key == "action_endpoint" else key
            if hasattr(endpoints, name):
                setattr(endpoints, name, EndpointConfig.from_raw(value))
        return endpoints


def read_credentials(path: Path | str) -> dict[str, dict[str, Any]]:
    """Channel name (or dotted class path) -> its settings; `${VAR}` expanded."""
    p = Path(path)
    if not p.exists():
        return {}
    raw = read_yaml_file(p)
    if raw is None:
        return {}
    at = Location(relative(p))
    if not isinstance(raw, dict):
        raise SchemaError(
            "credentials.yml must map channel names to their settings", document_start(raw, at)
        )
    expand_all(raw)
    for name, value in raw.items():
        if value is not None and not isinstance(value, dict):
            raise SchemaError(
                f"the settings of the channel '{name}' must be a mapping of keys",
                where(raw, name, value=True) or at,
                hint=f"write '{name}:' alone for no settings, or indent its keys under it",
            )
    return {str(name): dict(value or {}) for name, value in raw.items()}
