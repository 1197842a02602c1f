"""CSV that spreadsheets open safely: the one CSV writer of caredesk.

A cell a customer could have written (a subject, a name, a label) that begins like a formula
would run when the file is opened in a spreadsheet (CSV injection). Every CSV caredesk
writes goes through `csv_text`, which quotes such cells with a leading apostrophe, following
OWASP's advice; `tests/test_hostile_input.py` fails when code writes CSV any other way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A spreadsheet treats a cell starting with one of these as a formula (tab and CR too); some
# also read the full-width forms of = + - @ as their ASCII twins.
FORMULA_STARTS = (
    *("=", "+", "-", "@", "\t", "\r", "\n", "|"),
    *("\uff1d", "\uff0b", "\uff0d", "\uff20"),
)


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula. Numbers stay numbers (a negative
    number is no formula); text that starts like one gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV (RFC 4180 line ends), every cell through safe_cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
