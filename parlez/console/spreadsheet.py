"""CSV downloads from the console: one way to write them, and what customers wrote kept
from being read as a formula by the spreadsheet that opens them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sanic import response
from sanic.response import HTTPResponse

#: what a spreadsheet reads as the start of a formula (OWASP's CSV injection)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


#: a number, or numbers (`+447700900123 +15550001111`): a spreadsheet runs nothing in them
NUMBERS = re.compile(r"[+-]?[\d.]+( [+-]?[\d.]+)*")


def cell(value: Any) -> Any:
    """`value`, with a `'` before a text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA) and not NUMBERS.fullmatch(value):
        return f"'{value}"
    return value


def csv_download(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str
) -> HTTPResponse:
    """A CSV file to download: `columns`, then the rows with each cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return response.text(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
