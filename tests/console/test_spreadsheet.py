"""CSV downloads keep what customers wrote from running as a formula, and numbers as they are."""

from __future__ import annotations

from parlez.console.spreadsheet import cell


def test_a_formula_is_quoted_and_a_number_is_not() -> None:
    assert cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert cell("-2+3") == "'-2+3"
    assert cell("+447700900123 +15550001111") == "+447700900123 +15550001111"
    assert cell("-3.5") == "-3.5"
    assert cell("Ana Lima") == "Ana Lima" and cell(12) == 12
