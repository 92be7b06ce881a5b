"""What customers give in forms, written or said on the phone."""

from __future__ import annotations

import pytest

from actions.validation import valid_email, valid_phone


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


@pytest.mark.parametrize(
    ("given", "phone"),
    [
        ("07700 900123", "07700 900123"),
        ("+44 7700 900123", "+44 7700 900123"),
        # keyed in, or said digit by digit as Twilio writes it down
        ("07700900123", "07700900123"),
        ("oh seven seven double oh nine oh oh one two three", "07700900123"),
        ("plus four four seven seven double oh nine double oh one two three", "+447700900123"),
        ("my number is 0 7 7 0 0 9 0 0 1 2 3", "07700900123"),
        ("zéro six douze", None),
        ("call me tomorrow", None),
        ("one two three", None),
    ],
)
def test_a_phone_number_is_read_as_written_keyed_in_or_said(given: str, phone: str | None) -> None:
    assert valid_phone(given) == phone
