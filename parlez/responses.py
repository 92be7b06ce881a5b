"""Responses (`utter_*`) as the domain and data files declare them, checked against Rasa's schema."""

from __future__ import annotations

from typing import Any

from parlez.exceptions import Location, SchemaError, did_you_mean
from parlez.io.yaml import where

#: Keys a response variation may have in Rasa 3.x.
VARIATION_KEYS = {
    "text",
    "image",
    "buttons",
    "quick_replies",
    "elements",
    "attachment",
    "custom",
    "channel",
    "condition",
    "metadata",
    "id",
}
#: A variation must say something: one of these must be present.
CONTENT_KEYS = ("text", "image", "buttons", "quick_replies", "elements", "attachment", "custom")


def _check_buttons(buttons: Any, name: str, at: Location | None) -> None:
    if not isinstance(buttons, list):
        raise SchemaError(
            f"the buttons of '{name}' must be a list", at, hint="- title: ...\n  payload: ..."
        )
    for index, button in enumerate(buttons):
        here = where(buttons, index) or at
        if not isinstance(button, dict) or "title" not in button:
            raise SchemaError(
                f"each button of '{name}' needs a 'title' (and usually a 'payload')",
                here,
                hint='- title: "Yes"\n        payload: "/affirm"',
            )


def _check_condition(condition: Any, name: str, at: Location | None) -> None:
    if not isinstance(condition, list):
        raise SchemaError(
            f"the condition of a variation of '{name}' must be a list",
            at,
            hint="condition:\n      - type: slot\n        name: <slot>\n        value: <value>",
        )
    for index, item in enumerate(condition):
        here = where(condition, index) or at
        if not isinstance(item, dict) or item.get("type") != "slot" or "name" not in item:
            raise SchemaError(
                f"each condition of '{name}' must be '- type: slot' with a 'name' and a 'value'",
                here,
            )


def read_responses(raw: Any, at: Location | None) -> dict[str, list[dict[str, Any]]]:
    """The `responses:` mapping, each variation checked for known keys and content."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SchemaError("'responses' must be a mapping of response names to variations", at)
    responses: dict[str, list[dict[str, Any]]] = {}
    for name, variations in raw.items():
        here = where(raw, name) or at
        if not isinstance(variations, list) or not variations:
            raise SchemaError(
                f"the response '{name}' must be a list of variations",
                here,
                hint=f'{name}:\n  - text: "..."',
            )
        for index, variation in enumerate(variations):
            var_at = where(variations, index) or here
            if not isinstance(variation, dict):
                raise SchemaError(
                    f"a variation of the response '{name}' must be a mapping such as 'text: ...'",
                    var_at,
                )
            for key in variation:
                if key not in VARIATION_KEYS:
                    raise SchemaError(
                        f"the response '{name}' has the unknown key '{key}'",
                        where(variation, key) or var_at,
                        hint=did_you_mean(key, VARIATION_KEYS)
                        or f"allowed keys: {', '.join(sorted(VARIATION_KEYS))}",
                    )
            if not any(variation.get(key) is not None for key in CONTENT_KEYS):
                raise SchemaError(
                    f"a variation of the response '{name}' has no content",
                    var_at,
                    hint="give it a 'text' (or image, buttons, custom, attachment)",
                )
            if "buttons" in variation:
                _check_buttons(variation["buttons"], name, where(variation, "buttons") or var_at)
            if "condition" in variation:
                _check_condition(
                    variation["condition"], name, where(variation, "condition") or var_at
                )
        responses[str(name)] = [dict(v) for v in variations]
    return responses
