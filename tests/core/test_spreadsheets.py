"""Files for spreadsheet programs: formula-safe cells, and one writer for all of orga."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from core.spreadsheets import CsvWriter, safe_cell

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+49 170", "'+49 170"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Anna", "Anna"),
        (" =1", " =1"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (2.5, 2.5),
        (Decimal("-1.5"), Decimal("-1.5")),
        (True, "True"),
        (date(2026, 1, 2), "2026-01-02"),
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00+00:00"),
        ({"a": "=x"}, '{"a":"=x"}'),
        (["-x"], '["-x"]'),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_the_writer_streams_formula_safe_rows():
    writer = CsvWriter()
    writer.writerow(["name", "copies"])
    first = writer.take()
    writer.writerow(['=HYPERLINK("x")', -3])
    rows = list(csv.reader(io.StringIO(first + writer.take())))
    assert rows == [["name", "copies"], ['\'=HYPERLINK("x")', "-3"]]
    assert writer.take() == ""


def test_every_csv_or_xlsx_orga_writes_goes_through_the_helper():
    """No module writes CSV or XLSX on its own: ``csv.writer``/``DictWriter`` and openpyxl's
    ``Workbook`` appear only in core/spreadsheets.py (readers are fine)."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|write_only\s*=")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("core", "plugins")
        for path in (ROOT / folder).rglob("*.py")
        if writers.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["core/spreadsheets.py"]
