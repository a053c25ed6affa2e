"""Postal-code coverage of org units: which unit is responsible for a postal code.

A unit owns single codes and inclusive ranges (``04103-04109``). Units further down the tree
are more specific: :func:`resolve_unit` answers with the deepest unit covering a code, so a
district that lists its codes wins over the state that lists a whole range.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import db
from core.orgs.paths import subtree_sql
from core.problems import N_, Problem, invalid
from core.tables import utcnow

__all__ = [
    "Coverage",
    "format_entry",
    "normalize_postal_code",
    "parse_entries",
    "postcodes_of",
    "read_postcode_file",
    "resolve_unit",
    "set_postcodes",
]

_CODE = re.compile(r"(?=[A-Z]*[0-9])[0-9A-Z]{3,10}")


def normalize_postal_code(value: str | None) -> str | None:
    """The code without spaces, upper case; ``None`` when it is not a postal code."""
    code = re.sub(r"\s+", "", value or "").upper()
    return code if _CODE.fullmatch(code) else None


def parse_entries(
    entries: Iterable[str], field_name: str = "postal_codes"
) -> list[tuple[str, str]]:
    """``["04109", "04103-04107"]`` → sorted, de-duplicated ``(from, to)`` pairs.

    Raises:
        Problem: 422 naming ``field_name`` for a code or range that cannot be read.
    """
    ranges: set[tuple[str, str]] = set()
    for entry in entries:
        low_text, dash, high_text = entry.partition("-")
        low = normalize_postal_code(low_text)
        high = normalize_postal_code(high_text) if dash else low
        if low is None or high is None:
            raise invalid(field_name, N_("'%(entry)s' is not a postal code or range"), entry=entry)
        if len(low) != len(high) or low > high:
            raise invalid(
                field_name,
                N_("'%(entry)s': a range runs from low to high, same length"),
                entry=entry,
            )
        ranges.add((low, high))
    return sorted(ranges)


def format_entry(code_from: str, code_to: str) -> str:
    """One stored range as the text the API takes (``04109`` or ``04103-04107``)."""
    return code_from if code_from == code_to else f"{code_from}-{code_to}"


async def postcodes_of(org_id: int) -> list[str]:
    """The postal codes and ranges a unit covers, sorted."""
    rows = await db.fetch(
        "SELECT code_from, code_to FROM org_postcode WHERE org_id = {} ORDER BY code_from, code_to",
        org_id,
    )
    return [format_entry(r["code_from"], r["code_to"]) for r in rows]


async def set_postcodes(org_id: int, ranges: list[tuple[str, str]]) -> None:
    """Replace the coverage of a unit (inside a transaction, so readers never see it empty)."""
    now = utcnow()
    async with db.transaction():
        await db.execute("DELETE FROM org_postcode WHERE org_id = {}", org_id)
        await db.bulk_insert(
            "org_postcode",
            ("org_id", "code_from", "code_to", "created_at", "updated_at"),
            [(org_id, low, high, now, now) for low, high in ranges],
        )


async def resolve_unit(postal_code: str | None, within: str | None = None) -> int | None:
    """The id of the most specific (deepest) unit covering ``postal_code``, else ``None``.

    Between units of the same depth a single code wins over a range, then the lower id.

    Args:
        postal_code: the code as typed; it is normalized first.
        within: a unit path; only units in that subtree count.
    """
    code = normalize_postal_code(postal_code)
    if code is None:
        return None
    sql = (
        "SELECT u.id FROM org_postcode c JOIN org_unit u ON u.id = c.org_id "
        "WHERE c.code_from <= {} AND c.code_to >= {} AND length(c.code_from) = {}"
    )
    args: list[Any] = [code, code, len(code)]
    if within:
        condition, condition_args = subtree_sql("u.path", within)
        sql += f" AND {condition}"
        args += condition_args
    sql += " ORDER BY length(u.path) DESC, (c.code_from = c.code_to) DESC, u.id LIMIT 1"
    row = await db.fetch_one(sql, *args)
    return row["id"] if row else None


@dataclass
class Coverage:
    """The coverage of a set of units in memory, for resolving many codes (imports)."""

    exact: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    ranges: list[tuple[str, str, int, int]] = field(default_factory=list)
    _cache: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    async def load(cls, unit_ids: Iterable[int]) -> Coverage:
        """The coverage of the units ``unit_ids`` (e.g. an import's subtree)."""
        ids = list(unit_ids)
        coverage = cls()
        if not ids:
            return coverage
        marks = ", ".join(["{}"] * len(ids))
        rows = await db.fetch(
            "SELECT c.code_from, c.code_to, u.id, length(u.path) AS depth FROM org_postcode c "
            f"JOIN org_unit u ON u.id = c.org_id WHERE c.org_id IN ({marks})",
            *ids,
        )
        exact: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for row in rows:
            if row["code_from"] == row["code_to"]:
                exact[row["code_from"]].append((row["depth"], row["id"]))
            else:
                coverage.ranges.append((row["code_from"], row["code_to"], row["depth"], row["id"]))
        coverage.exact = dict(exact)
        return coverage

    def __bool__(self) -> bool:
        return bool(self.exact or self.ranges)

    def resolve(self, postal_code: str | None) -> int | None:
        """Like :func:`resolve_unit`, from memory."""
        code = normalize_postal_code(postal_code)
        if code is None or not self:
            return None
        if code not in self._cache:
            found = [(depth, 1, -uid) for depth, uid in self.exact.get(code, [])]
            found += [
                (depth, 0, -uid)
                for low, high, depth, uid in self.ranges
                if len(low) == len(code) and low <= code <= high
            ]
            self._cache[code] = -max(found)[2] if found else None
        return self._cache[code]


def read_postcode_file(path: Path) -> dict[int, list[tuple[str, str]]]:
    """Read a CSV with columns ``org_id`` and ``postal_code`` (a code or a range) per row.

    Raises:
        ValueError: naming the line of the first row that cannot be read.
    """
    per_unit: dict[int, list[str]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else "excel"
        reader = csv.DictReader(handle, dialect=dialect)
        header = {name.strip().lower(): name for name in reader.fieldnames or []}
        if "org_id" not in header or "postal_code" not in header:
            raise ValueError("the file needs the columns org_id and postal_code")
        for line, row in enumerate(reader, start=2):
            unit = (row.get(header["org_id"]) or "").strip()
            code = (row.get(header["postal_code"]) or "").strip()
            if not unit.isdecimal() or not code:
                raise ValueError(f"line {line}: needs an org_id and a postal_code")
            per_unit[int(unit)].append(code)
    result = {}
    for unit, codes in per_unit.items():
        try:
            result[unit] = parse_entries(codes)
        except Problem as exc:
            raise ValueError(f"org {unit}: {exc.errors[0].message}") from exc
    return result
