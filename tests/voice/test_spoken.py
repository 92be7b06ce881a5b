"""What a voice says of a response written for a screen."""

from __future__ import annotations

import pytest

from parlez.voice.spoken import spoken


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "Our prices are [on this page](https://studio.example/prices).",
            ["Our prices are on this page."],
        ),
        ("Book at https://www.studio.example/book?from=chat.", ["Book at studio.example."]),
        ("See www.studio.example for more", ["See studio.example for more"]),
        (
            "Write to hello@studio.example, e.g. today at 3.30 p.m.",
            ["Write to hello@studio.example, e.g. today at 3.30 p.m."],
        ),
        ("**Welcome** to the _studio_! 👋🏽 🎉", ["Welcome to the studio!"]),
        ("Thanks ❤️", ["Thanks"]),
        (
            "Our services:\n- Haircut: 30 €\n- Colour: 60 €",
            ["Our services: Haircut: 30 €. Colour: 60 €"],
        ),
        ("## Opening hours\nMonday to Friday", ["Opening hours. Monday to Friday"]),
        ("First part.\n\nSecond part.", ["First part.", "Second part."]),
        ("👍", []),
        ("snake_case and 2 * 3 = 6", ["snake_case and 2 * 3 = 6"]),
    ],
)
def test_a_response_is_said_without_addresses_markdown_or_emoji(text: str, said: list[str]) -> None:
    assert spoken(text) == said
