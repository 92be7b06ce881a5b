"""What customers give in forms, written or said on the phone."""

from __future__ import annotations

import pytest

from actions.validation import valid_email


@pytest.mark.parametrize(
    ("given", "email"),
    [
        ("Anna@Example.com", "anna@example.com"),
        ("<anna@example.com>.", "anna@example.com"),
        # said on the phone, as Twilio writes down what it heard
        ("anna at example dot com", "anna@example.com"),
        ("A n n a at example dot com.", "anna@example.com"),
        ("My email is anna dot lima at studio dot co dot uk", "anna.lima@studio.co.uk"),
        ("anna underscore lima at example.com", "anna_lima@example.com"),
        ("jean-paul arobase exemple point fr", "jean-paul@exemple.fr"),
        ("lena punkt fischer ät beispiel punkt de", "lena.fischer@beispiel.de"),
        ("mi correo es ana arroba ejemplo punto es", "ana@ejemplo.es"),
        # not addresses
        ("at the moment", None),
        ("I am at home", None),
        ("anna at example", None),
        ("anna at example dot com at home", None),
    ],
)
def test_an_email_address_is_read_as_written_or_as_said(given: str, email: str | None) -> None:
    assert valid_email(given) == email
