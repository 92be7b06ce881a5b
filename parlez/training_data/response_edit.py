"""The domain's responses as a person edits them: each `utter_*` with its variations (per
language, per channel), found in the domain file that holds it and changed there in place.

A variation's text and its buttons' titles are rewritten on their own lines, in the quotes
they had; a variation added for a language goes at the end of the response, one removed
takes its lines with it. Every other byte of the file stays, so the change reads as those
lines in git.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from parlez.exceptions import Location, ParlezError
from parlez.io.edit import FileChange, digest_of, load_round_trip, unified_diff
from parlez.io.yaml import is_yaml_file
from parlez.io.yaml_edit import YamlEditError, append_item, remove_item, remove_key, set_value
from parlez.project import data_files

#: the slot a variation's condition names to say which language it is for
LANGUAGE_SLOT = "language"
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
CHANNEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_IMAGE = re.compile(r"^https?://\S+$")


class ResponseEditError(ParlezError):
    code = "P121"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Variation:
    """One way of saying a response: for a language (a condition on the `language` slot),
    a channel, or any (both None)."""

    position: int
    text: str
    language: str | None = None
    channel: str | None = None
    buttons: list[Button] = field(default_factory=list)
    image: str | None = None
    #: other conditions (on other slots), shown as they are
    conditions: list[str] = field(default_factory=list)
    #: what a person can change here: a text written as text (not a custom payload)
    editable: bool = True
    #: the custom payload (Rasa's `custom:`), as JSON
    custom: str | None = None


@dataclass(frozen=True)
class Response:
    name: str
    path: Path
    variations: list[Variation]

    @property
    def languages(self) -> list[str]:
        return sorted({v.language for v in self.variations if v.language})

    @property
    def channels(self) -> list[str]:
        return sorted({v.channel for v in self.variations if v.channel})

    def default(self) -> Variation | None:
        """The variation said when no condition holds: the first without one."""
        plain = [v for v in self.variations if not v.language and not v.conditions]
        return next((v for v in plain if not v.channel), plain[0] if plain else None)


@dataclass(frozen=True)
class NewVariation:
    """A variation to add: said in `language` (a condition on the `language` slot), on the
    channel `channel` (Rasa's `channel:` key), or both."""

    text: str
    language: str | None = None
    channel: str | None = None

    @property
    def where(self) -> str:
        """ "in fr on slack", as a message names it."""
        return " ".join(
            part
            for part in (
                f"in {self.language}" if self.language else "",
                f"on {self.channel}" if self.channel else "",
            )
            if part
        )


@dataclass(frozen=True)
class VariationChange:
    """What the form says of variation `position`: its text and its buttons' titles, or
    that it goes."""

    position: int
    text: str
    titles: list[str] = field(default_factory=list)
    remove: bool = False
    #: the image's address ("": none); None: not on the form
    image: str | None = None
    #: the custom payload as JSON; None: not on the form
    custom: str | None = None
    #: the buttons (by position) that go
    removed_buttons: list[int] = field(default_factory=list)
    #: a button added at the end: (title, payload)
    new_button: Button | None = None


def _variation(position: int, raw: Any) -> Variation:
    if not isinstance(raw, dict):
        return Variation(position, str(raw), editable=False)
    language = None
    others = []
    for condition in raw.get("condition") or []:
        if isinstance(condition, dict) and condition.get("name") == LANGUAGE_SLOT:
            language = str(condition.get("value"))
        elif isinstance(condition, dict):
            others.append(f"{condition.get('name')} = {condition.get('value')}")
    buttons = [
        Button(str(b.get("title") or ""), str(b.get("payload") or ""))
        for b in raw.get("buttons") or []
        if isinstance(b, dict)
    ]
    text = raw.get("text")
    return Variation(
        position,
        str(text or ""),
        language,
        str(raw["channel"]) if raw.get("channel") else None,
        buttons,
        str(raw["image"]) if raw.get("image") else None,
        others,
        editable=isinstance(text, str) or (text is None and "custom" not in raw),
        custom=(
            json.dumps(raw["custom"], indent=2, ensure_ascii=False, default=str)
            if "custom" in raw
            else None
        ),
    )


def _buttons_changed(
    text: str,
    at: list[str | int],
    variation: Variation,
    change: VariationChange,
    name: str,
    source: str,
) -> str:
    """`text` with the buttons `change` removes taken out and the one it adds appended."""
    gone = sorted({n for n in change.removed_buttons if 0 <= n < len(variation.buttons)})
    if gone and len(gone) == len(variation.buttons) and change.new_button is None:
        text = remove_key(text, [*at, "buttons"], source)
    else:
        for number in reversed(gone):
            text = remove_item(text, [*at, "buttons", number], source)
    new = change.new_button
    if new is not None:
        if not new.title.strip() or not new.payload.strip():
            raise ResponseEditError(f"{name}: a new button needs a title and what it sends")
        button = {"title": new.title.strip(), "payload": new.payload.strip()}
        kept = len(variation.buttons) - len(gone)
        text = (
            append_item(text, [*at, "buttons"], button, source)
            if kept
            else set_value(text, [*at, "buttons"], [button], source)
        )
    return text


def _custom_changed(
    text: str, at: list[str | int], old: str, typed: str, name: str, source: str
) -> str:
    """`text` with the custom payload at `at` set to the JSON object `typed`."""
    try:
        wanted = json.loads(typed)
    except json.JSONDecodeError as error:
        raise ResponseEditError(
            f"{name}: the custom payload is not JSON (line {error.lineno}: {error.msg})"
        ) from None
    if not isinstance(wanted, dict):
        raise ResponseEditError(f"{name}: a custom payload is a JSON object ({{...}})")
    if wanted == json.loads(old):
        return text
    return set_value(text, [*at, "custom"], wanted, source)


def _new_item(response: Response, new: NewVariation, default: Variation | None) -> dict[str, Any]:
    """`new` as the variation written in the file, after checking it can be added."""
    if not new.language and not new.channel:
        raise ResponseEditError(f"{response.name}: a new variation is for a language or a channel")
    if new.language and not LANGUAGE_CODE.match(new.language):
        raise ResponseEditError(f"'{new.language}' is not a language code (such as fr)")
    if new.channel and not CHANNEL_NAME.match(new.channel):
        raise ResponseEditError(f"'{new.channel}' is not a channel's name (such as slack)")
    taken = {(v.language, v.channel) for v in response.variations if not v.conditions}
    if (new.language, new.channel) in taken:
        raise ResponseEditError(f"{response.name} already has a variation {new.where}")
    if not new.text.strip():
        raise ResponseEditError(f"{response.name}: the variation {new.where} needs a text")
    item: dict[str, Any] = {}
    if new.language:
        item["condition"] = [{"type": "slot", "name": LANGUAGE_SLOT, "value": new.language}]
    item["text"] = new.text.strip()
    if new.channel:
        item["channel"] = new.channel
    if default is not None and default.buttons:
        item["buttons"] = [{"title": b.title, "payload": b.payload} for b in default.buttons]
    # Rasa picks among the variations whose condition (and channel) holds, else the plain
    # ones: where in the list a variation stands does not matter.
    return item


def domain_files(domain: Path) -> list[Path]:
    """The domain's YAML files: `domain.yml`, or every file of a `domain/` folder."""
    return [p for p in data_files([domain]) if is_yaml_file(p)] if domain.exists() else []


def _responses_of(path: Path) -> tuple[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = load_round_trip(text, str(path), ResponseEditError)
    found = data.get("responses") if isinstance(data, CommentedMap) else None
    return text, found if isinstance(found, CommentedMap) else None


def read_responses(domain: Path) -> dict[str, Response]:
    """Every response of the domain, by name, with the file it is written in."""
    found: dict[str, Response] = {}
    for path in domain_files(domain):
        _, responses = _responses_of(path)
        for name, variations in (responses or {}).items():
            if isinstance(variations, CommentedSeq) and str(name) not in found:
                found[str(name)] = Response(
                    str(name),
                    path,
                    [_variation(i, raw) for i, raw in enumerate(variations)],
                )
    return found


def change_response(
    response: Response,
    changes: list[VariationChange],
    added: Sequence[NewVariation] = (),
) -> FileChange:
    """The change to `response`'s file: each variation's text and buttons' titles as the
    form says, the variations marked removed taken out, and the variations of `added` (for
    a language, a channel, or both) with the default variation's buttons. Nothing is
    written (see `parlez.io.edit.replace_if_unchanged`)."""
    path = response.path
    source, responses = _responses_of(path)
    current = responses.get(response.name) if responses is not None else None
    if not isinstance(current, CommentedSeq):
        raise ResponseEditError(
            f"'{response.name}' is no longer in {path.name}", Location(str(path))
        )
    shown = [_variation(i, raw) for i, raw in enumerate(current)]
    if shown != response.variations:
        raise ResponseEditError(
            f"'{response.name}' changed in {path.name} since it was opened",
            Location(str(path)),
            hint="open it again to see the change",
        )
    text = source
    where: list[str | int] = ["responses", response.name]
    try:
        for change in changes:
            variation = shown[change.position]
            at = [*where, change.position]
            if change.remove:
                continue
            if change.custom is not None and variation.custom is not None:
                text = _custom_changed(
                    text, at, variation.custom, change.custom, response.name, str(path)
                )
            if not variation.editable:
                continue
            image = variation.image or ""
            if change.image is not None and change.image.strip() != image:
                image = change.image.strip()
                if image and not _IMAGE.match(image):
                    raise ResponseEditError(f"'{image}' is not an image's http(s) address")
                text = (
                    set_value(text, [*at, "image"], image, str(path))
                    if image
                    else remove_key(text, [*at, "image"], str(path))
                )
            if not change.text.strip() and not image and variation.custom is None:
                raise ResponseEditError(f"{response.name}: a variation needs a text (or remove it)")
            if change.text != variation.text:
                text = set_value(text, [*at, "text"], change.text, str(path))
            for number, title in enumerate(change.titles[: len(variation.buttons)]):
                if title.strip() and title != variation.buttons[number].title:
                    step = [*where, change.position, "buttons", number, "title"]
                    text = set_value(text, step, title.strip(), str(path))
            text = _buttons_changed(text, at, variation, change, response.name, str(path))
        gone = sorted((c.position for c in changes if c.remove), reverse=True)
        if len(gone) >= len(shown) and not added:
            raise ResponseEditError(f"{response.name}: a response needs one variation at least")
        for position in gone:
            text = remove_item(text, [*where, position], str(path))
        default = response.default()
        for new in added:
            text = append_item(text, where, _new_item(response, new, default), str(path))
    except YamlEditError as error:
        raise ResponseEditError(error.message, Location(str(path))) from None
    return FileChange(path, digest_of(source), text, unified_diff(path, source, text))
