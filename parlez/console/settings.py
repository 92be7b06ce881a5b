"""The business's settings as the console edits them: its profile, e-mail, CRM and calendar
in `business.yml`, the LLM in `endpoints.yml`, the web chat's look and the channels'
credentials in `credentials.yml`, each written key by key in place (`parlez.io.yaml_edit`),
the rest of the files as they were.

A secret (a password, a token, an API key) is write-only: the page says whether it is set
and how (sealed in the file, or read from `${VAR}`), never what it is. A secret typed in is
sealed with `PARLEZ_SECRET_KEY` (`parlez.io.secrets`) before it touches the file; `${VAR}`
is kept as the reference it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale
from babel.numbers import is_currency

from parlez.console.business import SettingsProblem
from parlez.io.secrets import can_seal, is_sealed, seal
from parlez.io.yaml_edit import remove_key, set_value

_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ORIGIN = re.compile(r"^https?://[^/\s]+$")
#: the languages the form offers (the assistant's responses are written in these)
LANGUAGES = ("en", "fr", "de", "es")
#: the web chat's block of credentials.yml, as the assistant's own file names it
WEBCHAT = "connectors.webchat.WebChatInput"
#: the languages the web chat's own words (buttons, notices) are written in
WIDGET_LANGUAGES = ("", "en", "fr", "de", "es", "ar", "he")


@dataclass(frozen=True)
class Setting:
    """One field of the settings form, and where its value is kept."""

    name: str  # the form's field: "email.host"
    file: str  # "business" or "endpoints"
    path: tuple[str, ...]
    label: str
    #: text, address, number, bool, choice, secret, languages, zone, currency, url, colour,
    #: origins, or channel (the channel's block is there or not: it is served or not)
    kind: str = "text"
    choices: tuple[str, ...] = ()
    hint: str = ""
    required: bool = False
    #: a choice that owns its block: choosing none takes the whole block out (`crm:`)
    whole: bool = False
    #: what the reader of the file uses when the key is not there: the form shows it, and
    #: saving it unchanged writes nothing
    default: Any = None


def _s(name: str, label: str, **more: Any) -> Setting:
    file = more.pop("file", "business")
    path = more.pop("path", tuple(name.split(".")))
    return Setting(name, file, path, label, **more)


def _widget(key: str, label: str, **more: Any) -> Setting:
    """A key of the web chat's `widget:` block (docs/webchat.md)."""
    return _s(f"webchat.{key}", label, file="credentials", path=(WEBCHAT, "widget", key), **more)


def _channel(channel: str, label: str, keys: list[tuple[str, str, str]]) -> list[Setting]:
    """A channel's block of credentials.yml: whether it is served, then its keys as
    (key, label, kind)."""
    where = {"file": "credentials"}
    return [
        _s(channel, f"Serve {label}", kind="channel", path=(channel,), **where),
        *(
            _s(f"{channel}.{key}", text, kind=kind, path=(channel, key), **where)
            for key, text, kind in keys
        ),
    ]


SECTIONS: dict[str, list[Setting]] = {
    "Profile": [
        _s("name", "Business name", required=True),
        _s("address", "Address"),
        _s("timezone", "Time zone", kind="zone", hint="such as Europe/London", required=True),
        _s("languages", "Languages", kind="languages", hint="the first is the default"),
        _s("currency", "Currency", kind="currency", hint="EUR, GBP, USD... or its symbol"),
        _s("contact.phone", "Phone"),
        _s("contact.email", "E-mail", kind="address"),
        _s("contact.notify", "Leads and handoffs go to", kind="address"),
    ],
    "E-mail": [
        _s("email.type", "Sending", kind="choice", choices=("file", "smtp"),
           hint="file: written to mail/ as .eml, nothing sent"),
        _s("email.from", "From"),
        _s("email.host", "SMTP server"),
        _s("email.port", "Port", kind="number"),
        _s("email.starttls", "STARTTLS", kind="bool"),
        _s("email.username", "User name"),
        _s("email.password", "Password", kind="secret"),
    ],
    "CRM": [
        _s("crm.type", "CRM", kind="choice", choices=("", "hubspot"), whole=True,
           hint="empty: leads are kept in leads.db only"),
        _s("crm.url", "API address", kind="url", hint="https://api.hubapi.com"),
        _s("crm.token", "Access token", kind="secret"),
    ],
    "Calendar": [
        _s("booking.calendar.type", "Calendar", kind="choice", choices=("local", "caldav")),
        _s("booking.calendar.url", "CalDAV address", kind="url"),
        _s("booking.calendar.username", "User name"),
        _s("booking.calendar.password", "Password", kind="secret"),
        _s("booking.calendar.calendar", "Calendar name"),
    ],
    "LLM": [
        _s("llm.type", "Provider", kind="choice", choices=("", "anthropic", "openai"),
           file="endpoints", whole=True,
           hint="empty: answers are the knowledge base's, as written"),
        _s("llm.model", "Model", file="endpoints"),
        _s("llm.api_key", "API key", kind="secret", file="endpoints"),
    ],
    "Web chat": [
        _widget("title", "Title", hint="the header of the chat"),
        _widget("subtitle", "Subtitle"),
        _widget("color", "Colour", kind="colour", default="#2f5bea"),
        _widget("avatar", "Avatar image", kind="url", hint="an http(s) address of a picture"),
        _widget("position", "Position", kind="choice", choices=("right", "left"),
                default="right"),
        _widget("language", "Language of its buttons", kind="choice", choices=WIDGET_LANGUAGES,
                hint="empty: the visitor's browser's"),
        _widget("greeting", "Greeting", hint="sent for the visitor when a chat starts: /greet"),
        _widget("open", "Open on page load", kind="bool"),
        _widget("prechat", "Ask for name and e-mail first", kind="bool"),
        _s("webchat.allowed_origins", "Websites that may show it", kind="origins",
           file="credentials", path=(WEBCHAT, "allowed_origins"),
           hint="one address per line, such as https://www.example.com"),
    ],
    "Messenger": _channel("facebook", "Messenger", [
        ("verify", "Verify token", "text"),
        ("secret", "App secret", "secret"),
        ("page-access-token", "Page access token", "secret"),
    ]),
    "Instagram": _channel("instagram", "Instagram", [
        ("verify", "Verify token", "text"),
        ("secret", "App secret", "secret"),
        ("page-access-token", "Page access token", "secret"),
    ]),
    "Twilio (SMS and WhatsApp)": _channel("twilio", "Twilio", [
        ("account_sid", "Account SID", "text"),
        ("auth_token", "Auth token", "secret"),
        ("twilio_number", "Number", "text"),
        ("webhook_url", "Webhook address", "url"),
    ]),
    "Telegram": _channel("telegram", "Telegram", [
        ("access_token", "Bot token", "secret"),
        ("verify", "Bot user name", "text"),
        ("webhook_url", "Webhook address", "url"),
        ("secret_token", "Webhook secret", "secret"),
    ]),
    "Slack": _channel("slack", "Slack", [
        ("slack_token", "Bot token", "secret"),
        ("slack_signing_secret", "Signing secret", "secret"),
        ("slack_channel", "Answer in channel", "text"),
    ]),
}  # fmt: skip
SETTINGS = [setting for fields in SECTIONS.values() for setting in fields]


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def read(texts: dict[str, str]) -> dict[str, Any]:
    """Each setting's value as the files hold it (secrets included: never shown as such); a
    channel's, whether its block is there."""
    parsed = {name: yaml.safe_load(text) or {} for name, text in texts.items()}
    return {
        s.name: (
            isinstance(parsed.get(s.file), dict) and s.path[0] in parsed[s.file]
            if s.kind == "channel"
            else _at(parsed.get(s.file), s.path)
        )
        for s in SETTINGS
    }


def secret_state(value: Any) -> str:
    """What the page says of a secret: how it is kept, never what it is."""
    if value in (None, ""):
        return "not set"
    if is_sealed(value):
        return "set (sealed in the file)"
    if isinstance(value, str) and _REFERENCE.match(value):
        return f"read from the environment: {value}"
    return "set in the file as plain text: save it again to seal it"


def shown(values: dict[str, Any]) -> dict[str, str]:
    """The form's values: secrets as their state only."""
    out: dict[str, str] = {}
    for s in SETTINGS:
        value = values.get(s.name)
        if s.kind == "secret":
            out[s.name] = secret_state(value)
        elif s.kind == "languages":
            out[s.name] = ", ".join(str(v) for v in value or [])
        elif s.kind == "origins":
            out[s.name] = "\n".join(str(v) for v in value or [])
        elif s.kind in ("bool", "channel"):
            out[s.name] = "1" if value else ""
        else:
            value = s.default if value is None else value
            out[s.name] = "" if value is None else str(value)
    return out


def _checked(s: Setting, raw: str) -> Any:
    """The form's text for `s` as the value to write (None: leave the key out)."""
    text = raw.strip()
    if not text:
        if s.required:
            raise SettingsProblem(f"{s.label}: needed")
        return None
    if s.kind == "number":
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise SettingsProblem(f"{s.label}: '{text}' is not a port number")
        return int(text)
    if s.kind == "address" and not _ADDRESS.match(text):
        raise SettingsProblem(f"{s.label}: '{text}' is not an e-mail address")
    if s.kind == "url" and not re.match(r"^https?://\S+$", text):
        raise SettingsProblem(f"{s.label}: '{text}' is not an http(s) address")
    if s.kind == "colour" and not _COLOUR.match(text):
        raise SettingsProblem(f"{s.label}: '{text}' is not a colour such as #2f5bea")
    if s.kind == "origins":
        origins = [o.strip().rstrip("/") for o in re.split(r"[,\s]+", text) if o.strip()]
        wrong = [o for o in origins if o != "*" and not _ORIGIN.match(o)]
        if wrong:
            raise SettingsProblem(
                f"{s.label}: '{wrong[0]}' is not a website's address such as "
                "https://www.example.com (no path)"
            )
        return list(dict.fromkeys(origins))
    if s.kind == "zone":
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsProblem(f"{s.label}: unknown time zone '{text}'") from None
    if s.kind == "currency":
        symbols = Locale("en").currency_symbols.values()
        if not is_currency(text.upper()) and text not in symbols:
            raise SettingsProblem(f"{s.label}: unknown currency '{text}'")
    if s.kind == "choice" and text not in s.choices:
        raise SettingsProblem(
            f"{s.label}: choose one of {', '.join(c or '(none)' for c in s.choices)}"
        )
    if s.kind == "languages":
        codes = [c.strip() for c in re.split(r"[,\s]+", text) if c.strip()]
        wrong = [c for c in codes if not _LANGUAGE.match(c)]
        if wrong:
            raise SettingsProblem(f"{s.label}: '{wrong[0]}' is not a language code such as fr")
        return list(dict.fromkeys(codes))
    return text


def changed(
    texts: dict[str, str], form: dict[str, str], sources: dict[str, Path]
) -> tuple[dict[str, str], list[str]]:
    """The files' new texts with what the form changed, and the settings it changed (secrets
    named, never their values)."""
    current = read(texts)
    new = dict(texts)
    keys: list[str] = []
    #: the channels not served after this save: their keys are not written
    off: set[str] = set()
    for s in SETTINGS:
        old = current.get(s.name)
        if s.file == "credentials" and s.path[0] in off:
            continue
        if s.kind == "channel":
            served = bool(form.get(s.name)) if f"present.{s.name}" in form else bool(old)
            if not served:
                off.add(s.path[0])
            if served != bool(old):
                new[s.file] = _write(
                    new[s.file], s.path, {} if served else None, str(sources[s.file])
                )
                keys.append(s.name)
            continue
        if s.kind == "secret":
            value = _secret(s, form, old)
            if value is _KEEP or value == old:
                continue
        elif s.kind == "bool":
            if f"present.{s.name}" not in form:
                continue  # not on the page that was sent
            value = bool(form.get(s.name))
            if value == bool(old):
                continue
        else:
            if s.name not in form:
                continue
            value = _checked(s, form[s.name])
            if value == old or str(value) == str(old) or (value is None and old in (None, "")):
                continue
            if old is None and value == s.default:
                continue
        if s.whole and value is None:
            # "none" for a provider: its whole section goes (`crm:`, `llm:`)
            new[s.file] = remove_key(new[s.file], list(s.path[:-1]), str(sources[s.file]))
        else:
            new[s.file] = _write(new[s.file], s.path, value, str(sources[s.file]))
        keys.append(f"{s.name} (secret)" if s.kind == "secret" else s.name)
    return new, keys


_KEEP = object()


def _secret(s: Setting, form: dict[str, str], old: Any) -> Any:
    if form.get(f"clear.{s.name}"):
        return None
    typed = (form.get(s.name) or "").strip()
    if not typed:
        return _KEEP  # a blank secret field keeps what is there
    if _REFERENCE.match(typed):
        return typed
    if not can_seal():
        raise SettingsProblem(
            f"{s.label}: set PARLEZ_SECRET_KEY to seal secrets in the file (`parlez console "
            "secret-key` makes one), or type ${VARIABLE} to read it from the environment"
        )
    return seal(typed)


def _write(text: str, path: tuple[str, ...], value: Any, source: str) -> str:
    """`text` with `value` at `path`: the key set in place, or its mapping made, or the key
    taken out for None."""
    if value is None:
        return remove_key(text, list(path), source)
    data = yaml.safe_load(text) or {}
    if not data:
        # a file not made yet, or comments only: the comments stay, the key follows them
        nested: Any = value
        for step in reversed(path):
            nested = {step: nested}
        dumped = yaml.safe_dump(nested, sort_keys=False, allow_unicode=True)
        return (text + "\n" if text and not text.endswith("\n") else text) + dumped
    for depth in range(1, len(path)):
        parent = _at(data, path[:depth])
        if not isinstance(parent, dict) or not parent:
            # the mapping is missing or empty (`crm: {}`): written whole, with this key
            nested = value
            for step in reversed(path[depth:]):
                nested = {step: nested}
            return set_value(text, list(path[:depth]), nested, source)
    return set_value(text, list(path), value, source)
