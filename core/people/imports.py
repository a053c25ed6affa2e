"""Importing people from CSV and XLSX: read, map, validate, match, and write all-or-nothing.

Files are read as a stream (csv module / openpyxl read-only), rows are checked and written in
chunks of 1,000 inside ONE transaction, so memory stays flat and a failure anywhere leaves the
database as it was. Rows with errors are reported (``person_import_error``) and skipped; the
rest are imported only when the import is confirmed. An error names the field and the problem,
never the cell's value, and is tied to the existing person the row's valid keys match, so
erasing that person deletes it.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
from litestar.datastructures import UploadFile

from core import db
from core.audit.services import record
from core.context import current_runtime
from core.jobs.services import PermanentJobError, enqueue
from core.orgs.paths import subtree_ids
from core.orgs.postcodes import Coverage
from core.pagination import Page, decode_cursor, keyset_page, page_of
from core.people import uploads
from core.people.phones import normalize_phone
from core.people.schemas import MEMBER_STATUSES, SOURCES
from core.people.services import name_keys, normalize_email_address
from core.people.tables import PersonImport
from core.problems import FieldError, Problem, not_found
from core.settings import Settings
from core.tables import utcnow

__all__ = [
    "FIELDS",
    "IMPORT_JOB",
    "MAX_RECORD_LINES",
    "UNCACHED",
    "CheckOut",
    "ImportOptions",
    "RowProblem",
    "RowResult",
    "cancel",
    "check",
    "check_rows",
    "confirm",
    "error_rows",
    "list_imports",
    "load_import",
    "progress_of",
    "read_rows",
    "run_import",
    "run_import_job",
    "samples",
    "suggest_mapping",
    "upload",
]

CHUNK = 1000
_ANALYZE_AFTER = frozenset({2_000, 20_000, 200_000})
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postal_code",
    "city",
    "country",
    "language",
    "member_status",
    "membership_number",
    "source",
    "tags",
    "notes",
)
_STATUS_ALIASES = {
    "mitglied": "member",
    "ehemalig": "former_member",
    "ehemaliges mitglied": "former_member",
    "sympathisant": "sympathizer",
    "sympathisantin": "sympathizer",
    "kontakt": "contact",
}
_HEADER_ALIASES = {
    "vorname": "first_name",
    "nachname": "last_name",
    "name": "last_name",
    "e-mail": "email",
    "mail": "email",
    "telefon": "phone",
    "handy": "phone",
    "mobil": "phone",
    "strasse": "street",
    "straße": "street",
    "plz": "postal_code",
    "postleitzahl": "postal_code",
    "ort": "city",
    "stadt": "city",
    "land": "country",
    "sprache": "language",
    "status": "member_status",
    "mitgliedsnummer": "membership_number",
    "quelle": "source",
    "schlagworte": "tags",
    "notizen": "notes",
}
_SIMPLE_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class ImportConsent(msgspec.Struct, forbid_unknown_fields=True):
    """Consent the people gave when their data was collected (recorded for each new row)."""

    channel: Literal["email", "phone", "sms", "post"]
    wording: str
    purpose: str = "general"


class ImportOptions(msgspec.Struct, forbid_unknown_fields=True):
    """How to read the file: column → field, how to find existing people, what to do then."""

    mapping: dict[str, str]
    match_by: list[Literal["membership_number", "email", "phone"]] = msgspec.field(
        default_factory=lambda: ["membership_number", "email", "phone"]
    )
    strategy: Literal["skip", "update_empty", "overwrite"] = "skip"
    consent: ImportConsent | None = None
    default_member_status: Literal["member", "former_member", "sympathizer", "contact"] = "contact"


@dataclass
class RowResult:
    """A checked row: its values, or its errors."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem:
    """A row the reader could not take apart; it becomes that row's error."""

    field: str
    message: str


class _Uncached(str):
    """The type of :data:`UNCACHED`."""

    __slots__ = ()


UNCACHED = _Uncached("")
"""An XLSX cell holding a formula whose result the file does not store (files written by
programs that do not calculate, e.g. openpyxl or many exports): its value is unknown."""

MAX_RECORD_LINES = 10
"""A quoted CSV field may run over several lines (an address, a note), but a row of more than
this many lines, or a multi-line row whose number of fields differs from the header's, is an
unterminated quote: the row is reported and reading resumes on its next line."""


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _csv_rows(path: Path) -> Iterator[list[str] | RowProblem]:
    with path.open("rb") as fh:
        head = fh.read(65536)
    sample = _decode(head[:8192])
    dialect: Any = csv.excel
    # the whole sample first; a huge field in it (cut off by the sample) confuses the sniffer,
    # so then the header line alone
    for text in (sample, sample.partition("\n")[0]):
        try:
            dialect = csv.Sniffer().sniff(text, delimiters=",;\t")
            break
        except csv.Error:
            continue
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the buffer's end
            encoding = "cp1252"
    with path.open(encoding=encoding, newline="") as fh:
        yield from _records(fh, dialect)


def _records(lines: Iterator[str], dialect: Any) -> Iterator[list[str] | RowProblem]:
    """CSV records of ``lines`` (the first is the header); a broken record is reported as a
    :class:`RowProblem` and its lines after the first are read again, so an unterminated
    quote costs one row, not the rest of the file."""
    replay: list[str] = []  # lines to read again, the next one last
    width: int | None = None
    line_number = 1
    while True:
        taken: list[str] = []

        def feed(taken: list[str] = taken) -> Iterator[str]:
            while len(taken) <= MAX_RECORD_LINES:
                line = replay.pop() if replay else next(lines, None)
                if line is None:
                    return
                taken.append(line)
                yield line

        reader = csv.reader(feed(), dialect)
        while True:
            try:
                record = next(reader, None)
                broken = None
            except csv.Error as exc:  # a NUL byte, a field over the size limit
                record, broken = [], f"the row cannot be read ({exc})"
            if record is None:
                if not taken:
                    return
                record = []  # the feed stopped: more than MAX_RECORD_LINES lines
            if broken is None and len(taken) > 1 and not _well_formed(taken, dialect, width):
                broken = (
                    f"a quote opened in line {line_number} of the file is not closed "
                    "where the row ends; close it, or remove it"
                )
            if broken is not None:
                yield RowProblem("row", broken)
                replay.extend(reversed(taken[1:]))
                line_number += 1
                break
            if width is None:
                width = len(record)
            line_number += len(taken)
            taken.clear()
            yield record


def _well_formed(lines: list[str], dialect: Any, width: int | None) -> bool:
    """Whether a record read from several lines is one, as a legitimate multi-line field
    makes it: few lines, each quote closed right before a delimiter or the line's end, and
    as many fields as the header (``width``)."""
    if len(lines) > MAX_RECORD_LINES:
        return False
    try:
        records = list(csv.reader(lines, dialect, strict=True))
    except csv.Error:
        return False
    return len(records) == 1 and (width is None or len(records[0]) == width)


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the XLSX file holds a formula (a cheap scan of its XML)."""
    tag = re.compile(rb"<(?:\w+:)?f[\s>/]")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with archive.open(name) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    if tag.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    """The first sheet's rows as text; a formula without a stored result is :data:`UNCACHED`.

    openpyxl gives a formula's stored result, or ``None`` when there is none, which looks
    like an empty cell. When the file has formulas, a second reader going through the same
    rows tells them apart. The size a sheet states for itself is ignored: openpyxl stops
    there, and some programs state too few rows.
    """
    from openpyxl import load_workbook

    with path.open("rb") as fh, path.open("rb") as formula_fh:  # openpyxl checks names
        workbook = load_workbook(fh, read_only=True, data_only=True)
        formulas = (
            load_workbook(formula_fh, read_only=True, data_only=False)
            if _has_formulas(path)
            else None
        )
        try:
            sheets = [book.worksheets[0] for book in (workbook, formulas) if book is not None]
            for sheet in sheets:
                sheet.reset_dimensions()
            values = sheets[0].iter_rows(values_only=True)
            if formulas is None:
                for row in values:
                    yield ["" if v is None else str(v) for v in row]
                return
            cells = sheets[1].iter_rows()
            for row, formula_row in zip(values, cells, strict=False):
                kinds = [getattr(cell, "data_type", "n") for cell in formula_row]
                yield [
                    (UNCACHED if kinds[i] == "f" else "") if v is None else str(v)
                    for i, v in enumerate(row)
                ]
        finally:
            workbook.close()
            if formulas is not None:
                formulas.close()


def _unreadable(row: int, exc: Exception) -> Problem:
    """422 naming the ``file`` and the row the reader stopped at."""
    message = f"row {row}: {exc}"
    return Problem(
        422,
        "import-unreadable",
        f"The file cannot be read: {message}",
        errors=[FieldError("file", message)],
    )


def _readable(rows: Iterator[Any]) -> Iterator[list[str] | RowProblem]:
    """The data rows; what the reader says about a broken row further down (a field over the
    csv module's 128 KiB limit, bytes the chosen encoding cannot read, a damaged sheet) is a
    422 naming the file and the row, wherever the rows are read (upload preview, check,
    import job or command)."""
    row = 1
    while True:
        row += 1
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # whatever the CSV or XLSX reader says about a broken file
            raise _unreadable(row, exc) from exc
        yield values


def read_rows(path: Path, fmt: str) -> tuple[list[str], Iterator[list[str] | RowProblem]]:
    """The header and an iterator over the data rows of a CSV or XLSX file (a row the
    reader could not take apart is a :class:`RowProblem`).

    Raises:
        Problem: 422 for an empty or unreadable file; the rows raise it for a broken row.
    """
    rows: Iterator[Any] = _xlsx_rows(path) if fmt == "xlsx" else _csv_rows(path)
    try:
        first = next(rows)
    except StopIteration as exc:
        raise Problem(422, "import-empty", "The file has no header row.") from exc
    except Exception as exc:  # whatever the CSV or XLSX reader says about a broken file
        raise _unreadable(1, exc) from exc
    if isinstance(first, RowProblem):
        raise _unreadable(1, ValueError(first.message))
    return [h.strip() for h in first], _readable(rows)


def suggest_mapping(columns: list[str]) -> dict[str, str]:
    """Guess ``column → field`` from the header names (German and English)."""
    mapping = {}
    for column in columns:
        key = column.strip().lower().replace("_", " ")
        fieldname = _HEADER_ALIASES.get(key) or key.replace(" ", "_")
        if fieldname in FIELDS or fieldname.startswith("custom:"):
            mapping[column] = fieldname
    return mapping


def _email(value: str) -> str:
    if _SIMPLE_EMAIL.fullmatch(value):
        return value.lower()
    try:
        normalized = normalize_email_address(value)
    except Problem as exc:
        raise ValueError("not a valid e-mail address") from exc
    assert normalized is not None
    return normalized


def check_rows(
    header: list[str],
    rows: Iterator[list[str] | RowProblem],
    options: ImportOptions,
    region: str,
    first_row: int = 2,
) -> Iterator[RowResult]:
    """Map and validate each row; invalid rows carry their errors (field and message)."""
    unknown = [
        f for f in options.mapping.values() if f not in FIELDS and not f.startswith("custom:")
    ]
    missing = [c for c in options.mapping if c not in header]
    if unknown or missing:
        problems = [f"unknown field '{f}'" for f in unknown] + [
            f"no column '{c}' in the file" for c in missing
        ]
        raise Problem(422, "validation-error", "; ".join(problems))
    positions = [
        (header.index(column), target, column) for column, target in options.mapping.items()
    ]
    for number, row in enumerate(rows, start=first_row):
        if isinstance(row, RowProblem):
            yield RowResult(number=number, errors=[(row.field, row.message)])
        elif not _blank(row):
            yield _check_row(number, row, positions, options, region)


def _blank(row: list[str]) -> bool:
    """A row with nothing in it (skipped, not counted)."""
    return not any(cell.strip() or cell is UNCACHED for cell in row)


def _check_row(
    number: int,
    row: list[str],
    positions: list[tuple[int, str, str]],
    options: ImportOptions,
    region: str,
) -> RowResult:
    result = RowResult(number=number)
    values = result.values
    custom: dict[str, str] = {}
    for index, target, column in positions:
        cell = row[index] if index < len(row) else ""
        if cell is UNCACHED:
            result.errors.append(
                (
                    target,
                    f"column '{column}' holds a formula whose result the file does not store; "
                    "open the file in a spreadsheet program and save it again",
                )
            )
            continue
        raw = cell.strip()
        if not raw:
            continue
        try:
            if target == "email":
                values["email"] = _email(raw)
            elif target == "phone":
                for position, part in enumerate(re.split(r"[;,/]", raw), start=1):
                    phone = normalize_phone(part, region) if part.strip() else None
                    if part.strip() and phone is None:
                        raise ValueError(f"number {position} is not a phone number")
                    if phone and phone not in result.phones:
                        result.phones.append(phone)
            elif target == "member_status":
                status = _STATUS_ALIASES.get(raw.lower(), raw.lower())
                if status not in MEMBER_STATUSES:
                    raise ValueError("unknown member status")
                values["member_status"] = status
            elif target == "source":
                if raw not in SOURCES:
                    raise ValueError("unknown source")
                values["source"] = raw
            elif target == "tags":
                result.tags += [t.strip() for t in raw.split(",") if t.strip()]
            elif target == "country":
                if not re.fullmatch(r"[A-Za-z]{2}", raw):
                    raise ValueError("use a two-letter country code")
                values["country"] = raw.upper()
            elif target.startswith("custom:"):
                custom[target.removeprefix("custom:")] = raw
            else:
                limit = 20 if target == "postal_code" else 300
                if len(raw) > limit:
                    raise ValueError(f"longer than {limit} characters")
                values[target] = raw
        except ValueError as exc:  # the message never repeats the value (it is stored)
            result.errors.append((target, str(exc)))
    if custom:
        values["custom_fields"] = custom
    if not any(values.get(k) for k in ("first_name", "last_name", "email")) and not result.phones:
        result.errors.append(("row", "needs a name, an e-mail or a phone number"))
    return result


async def _existing(
    chunk: list[RowResult], options: ImportOptions, units: set[int]
) -> dict[int, int]:
    """Row number → id of the person it matches, by the configured keys in order (for a row
    with errors, by the keys that are valid).

    Lookups use only the key's index; people outside the import's subtree (``units``) are
    filtered here, so a planner without statistics cannot pick a scan of the whole subtree.
    """
    found: dict[int, int] = {}
    for key in options.match_by:
        pending = [r for r in chunk if r.number not in found]
        if key == "phone":
            lookups = {p: r.number for r in pending for p in r.phones}
            sql = (
                "SELECT ph.e164 AS k, p.id, p.home_org_id FROM person_phone ph "
                "JOIN person p ON p.id = ph.person_id WHERE ph.e164 IN (MARKS)"
            )
        else:
            lookups = {r.values[key]: r.number for r in pending if r.values.get(key)}
            sql = f"SELECT p.{key} AS k, p.id, p.home_org_id FROM person p WHERE p.{key} IN (MARKS)"
        if not lookups:
            continue
        marks = ", ".join(["{}"] * len(lookups))
        for row in await db.fetch(sql.replace("MARKS", marks), *lookups):
            if row["home_org_id"] in units:
                found.setdefault(lookups[row["k"]], row["id"])
    return found


@dataclass
class Counts:
    """What an import did."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    total: int = 0


async def _new_ids(count: int) -> list[int]:
    if db.is_postgres():
        rows = await db.fetch(
            "SELECT nextval('person_id_seq') AS id FROM generate_series(1, {})", count
        )
        return [int(r["id"]) for r in rows]
    # Past the highest id ever given (AUTOINCREMENT's counter), not the highest alive: the
    # id of an erased person is never reused. Inserting the ids moves the counter on.
    top = await db.fetch_one(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'person'), 0), "
        "COALESCE((SELECT MAX(id) FROM person), 0)) AS m"
    )
    return list(range(top["m"] + 1, top["m"] + 1 + count))


_PERSON_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "first_key",
    "last_key",
    "email",
    "street",
    "postal_code",
    "city",
    "country",
    "language",
    "member_status",
    "membership_number",
    "home_org_id",
    "source",
    "custom_fields",
    "notes",
    "do_not_contact",
    "has_phone",
    "created_at",
    "updated_at",
)


async def _insert(
    chunk: list[RowResult],
    org_id: int,
    options: ImportOptions,
    import_id: int,
    tag_ids: dict[str, int],
    coverage: Coverage | None = None,
) -> None:
    now = utcnow()
    ids = await _new_ids(len(chunk))
    people, phones, tags, consents = [], [], [], []
    consent = options.consent
    for person_id, row in zip(ids, chunk, strict=True):
        v = row.values
        first_key, last_key = name_keys(v.get("first_name", ""), v.get("last_name", ""))
        people.append(
            (
                person_id,
                v.get("first_name", ""),
                v.get("last_name", ""),
                first_key,
                last_key,
                v.get("email"),
                v.get("street"),
                v.get("postal_code"),
                v.get("city"),
                v.get("country"),
                v.get("language"),
                v.get("member_status", options.default_member_status),
                v.get("membership_number"),
                (coverage.resolve(v.get("postal_code")) if coverage else None) or org_id,
                v.get("source", "import"),
                msgspec.json.encode(v.get("custom_fields", {})).decode(),
                v.get("notes"),
                False,
                # the flag as the person_phone trigger will find it (only a lookup then)
                bool(row.phones),
                now,
                now,
            )
        )
        phones += [(person_id, phone, position, True) for position, phone in enumerate(row.phones)]
        tags += [(person_id, tag_ids[name]) for name in dict.fromkeys(row.tags)]
        if consent is not None:
            consents.append(
                (
                    person_id,
                    consent.channel,
                    consent.purpose,
                    "granted",
                    f"import:{import_id}",
                    consent.wording,
                    now,
                )
            )
    await db.bulk_insert("person", _PERSON_COLUMNS, people)
    await db.bulk_insert("person_phone", ("person_id", "e164", "position", "valid"), phones)
    await db.bulk_insert("person_tag", ("person_id", "tag_id"), tags)
    await db.bulk_insert(
        "consent_event",
        ("person_id", "channel", "purpose", "status", "source", "wording", "at"),
        consents,
    )


async def _update(row: RowResult, person_id: int, options: ImportOptions) -> None:
    current = await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)
    assert current is not None
    values = {
        k: v
        for k, v in row.values.items()
        if k != "custom_fields" and (options.strategy == "overwrite" or current[k] in (None, ""))
    }
    if "first_name" in values or "last_name" in values:
        values["first_key"], values["last_key"] = name_keys(
            values.get("first_name", current["first_name"]),
            values.get("last_name", current["last_name"]),
        )
    if values:
        values["updated_at"] = utcnow()
        columns = ", ".join(f"{k} = {{}}" for k in values)
        await db.execute(
            f"UPDATE person SET {columns} WHERE id = {{}}", *values.values(), person_id
        )
    known = {
        r["e164"]
        for r in await db.fetch("SELECT e164 FROM person_phone WHERE person_id = {}", person_id)
    }
    for position, phone in enumerate(row.phones, start=len(known)):
        if phone not in known:
            await db.execute(
                "INSERT INTO person_phone (person_id, e164, position, valid) "
                "VALUES ({}, {}, {}, true)",
                person_id,
                phone,
                position,
            )


async def _tag_ids(names: set[str], org_id: int, org_path: str) -> dict[str, int]:
    from core.people.tags import visible_definitions_sql

    ids = {
        r["name"]: r["id"]
        for r in await db.fetch(visible_definitions_sql("tag"), org_path)
        if r["name"] in names
    }
    for name in sorted(names - set(ids)):
        rows = await db.fetch(
            "INSERT INTO tag (org_id, name, created_at, updated_at) VALUES "
            "({}, {}, {}, {}) RETURNING id",
            org_id,
            name,
            utcnow(),
            utcnow(),
        )
        ids[name] = rows[0]["id"]
    return ids


def _take(rows: Iterator[RowResult], size: int) -> list[RowResult]:
    """The next ``size`` checked rows (runs in a worker thread)."""
    return list(itertools.islice(rows, size))


async def run_import(
    import_id: int,
    org_id: int,
    org_path: str,
    rows: Iterator[RowResult],
    options: ImportOptions,
    progress: Callable[[int], None] | None = None,
) -> Counts:
    """Write the checked rows in ONE transaction; errors go to ``person_import_error``.

    ``progress`` is called with the number of rows done after each chunk. Any exception rolls
    back everything, including the error report of this run.
    """
    counts = Counts()
    async with db.transaction():
        if db.is_postgres():  # held to the end: the import is alive (core.people.uploads)
            await db.execute("SELECT id FROM person_import WHERE id = {} FOR UPDATE", import_id)
        await db.execute("DELETE FROM person_import_error WHERE import_id = {}", import_id)
        tag_ids: dict[str, int] = {}
        units = set(await subtree_ids(org_path))
        # A new person's home unit: the most specific unit of the subtree covering their
        # postal code, else the import's unit.
        coverage = await Coverage.load(units)
        # Reading and checking the next chunk (pure Python, in a thread) overlaps with writing
        # the current one (database work), so the import takes about the longer of the two.
        upcoming = asyncio.ensure_future(asyncio.to_thread(_take, rows, CHUNK))
        while chunk := await upcoming:
            upcoming = asyncio.ensure_future(asyncio.to_thread(_take, rows, CHUNK))
            if db.is_postgres() and counts.total in _ANALYZE_AFTER:
                # The planner's statistics predate this transaction's rows; without a fresh
                # look it scans the growing table for every lookup.
                await db.execute("ANALYZE person, person_phone")
            try:
                await _write_chunk(
                    chunk, import_id, org_id, org_path, options, counts, tag_ids, units, coverage
                )
            except BaseException:
                await asyncio.gather(upcoming, return_exceptions=True)
                raise
            if progress:
                progress(counts.total)
        await db.execute(
            "UPDATE person_import SET status = 'done', total_rows = {}, created_count = {}, "
            "updated_count = {}, skipped_count = {}, error_count = {}, updated_at = {} "
            "WHERE id = {}",
            counts.total,
            counts.created,
            counts.updated,
            counts.skipped,
            counts.errors,
            utcnow(),
            import_id,
        )
    await db.execute("ANALYZE person" if db.is_postgres() else "PRAGMA optimize")
    return counts


async def _write_chunk(
    chunk: list[RowResult],
    import_id: int,
    org_id: int,
    org_path: str,
    options: ImportOptions,
    counts: Counts,
    tag_ids: dict[str, int],
    units: set[int],
    coverage: Coverage | None = None,
) -> None:
    counts.total += len(chunk)
    bad = [r for r in chunk if r.errors]
    if bad:
        counts.errors += len(bad)
        named = await _existing(bad, options, units)
        errors = [
            (import_id, r.number, f, m[:500], named.get(r.number)) for r in bad for f, m in r.errors
        ]
        await db.execute(
            "INSERT INTO person_import_error (import_id, row, field, message, person_id) VALUES "
            + ", ".join(["({}, {}, {}, {}, {})"] * len(errors)),
            *[value for error in errors for value in error],
        )
    good = [r for r in chunk if not r.errors]
    existing = await _existing(good, options, units)
    new_tags = {t for r in good for t in r.tags} - set(tag_ids)
    if new_tags:
        tag_ids.update(await _tag_ids(new_tags, org_id, org_path))
    fresh = []
    fresh_emails: set[str] = set()
    for row in good:
        person_id = existing.get(row.number)
        email = row.values.get("email")
        if person_id is None and email in fresh_emails:
            counts.skipped += 1  # the same person twice in one chunk of the file
            continue
        if person_id is None:
            fresh.append(row)
            if email:
                fresh_emails.add(email)
            continue
        if options.strategy == "skip":
            counts.skipped += 1
        else:
            await _update(row, person_id, options)
            counts.updated += 1
    if fresh:
        await _insert(fresh, org_id, options, import_id, tag_ids, coverage)
        counts.created += len(fresh)


def rows_in(path: Path, fmt: str) -> int:
    """Count the data rows of a file that an import reads (blank rows are skipped): the
    total its progress counts towards."""
    _, rows = read_rows(path, fmt)
    return sum(1 for row in rows if isinstance(row, RowProblem) or not _blank(row))


def sniff_format(filename: str, head: bytes) -> str:
    """``xlsx`` for Excel files (zip magic or extension), else ``csv``."""
    if head.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


# The steps of an import, one function each, shared by the JSON routes
# (core/people/import_routes.py) and the console's pages (core/people/import_pages.py).

IMPORT_JOB = "people.import"
PREVIEW_ROWS = 20
"""Rows an upload answers checked with the suggested mapping."""
CHECK_ERRORS = 1000
"""Errors a check lists at most (it counts them all)."""


class CheckOut(msgspec.Struct):
    """A full validation pass over the file with the given options (nothing is written)."""

    rows: int
    valid: int
    invalid: int
    errors: list[dict[str, Any]]


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(8)


async def upload(
    file: UploadFile,
    org_id: int,
    user_id: int | None,
    settings: Settings,
    region: str,
    mapping: dict[str, str] | None = None,
) -> tuple[int, list[RowResult]]:
    """Store an uploaded CSV or XLSX file as a new ``uploaded`` import of unit ``org_id``.

    Returns the import's id and its first :data:`PREVIEW_ROWS` rows checked with ``mapping``
    (default: :func:`suggest_mapping`'s). A file that breaks in its first rows is refused
    before anything is stored, and its upload deleted at once; an accepted one is deleted when
    its import ends, or unconfirmed after ``ORGA_IMPORT_UPLOAD_HOURS``.

    Raises:
        Problem: 422 for an empty or unreadable file, or a mapping naming unknown fields or
            columns.
    """
    path = await uploads.store(file, settings)
    try:
        fmt = sniff_format(file.filename or "", await asyncio.to_thread(_head, path))
        header, rows = read_rows(path, fmt)
        options = ImportOptions(mapping=suggest_mapping(header) if mapping is None else mapping)
        preview = list(itertools.islice(check_rows(header, rows, options, region), PREVIEW_ROWS))
        async with db.transaction():
            created = await PersonImport.insert(
                PersonImport(
                    org=org_id,
                    user_id=user_id,
                    filename=(file.filename or "upload")[:300],
                    format=fmt,
                    stored_path=str(path),
                    columns=header,
                )
            ).run()
            await uploads.schedule_expiry(created[0]["id"], settings)
    except BaseException:
        await uploads.discard(str(path), settings)
        raise
    return created[0]["id"], preview


async def load_import(import_id: int, org_id: int) -> dict[str, Any]:
    """The import ``import_id`` of unit ``org_id`` (404 for another unit's)."""
    row = (
        await PersonImport.select()
        .where((PersonImport.id == import_id) & (PersonImport.org == org_id))
        .first()
        .run()
    )
    if row is None:
        raise not_found("import")
    return row


async def list_imports(org_id: int, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The unit's imports, newest first (keyset pages)."""
    query = PersonImport.select().where(PersonImport.org == org_id)
    return await keyset_page(query, PersonImport.id, limit, cursor, newest_first=True)


def progress_of(row: dict[str, Any]) -> tuple[int | None, int]:
    """How far an import is: ``(rows done, rows in all)``.

    The rows done are ``None`` (not known) while it is queued or running: it writes in one
    transaction, and its row is updated when that commits. An import that ended without
    finishing has done nothing.
    """
    if row["status"] in ("queued", "running"):
        return None, row["total_rows"]
    done = row["total_rows"] if row["status"] == "done" else 0
    return done, row["total_rows"]


def _still_stored(row: dict[str, Any]) -> None:
    """409 for an ended import: its file is deleted."""
    if row["status"] in uploads.ENDED:
        raise Problem(
            409,
            "import-ended",
            f"This import is {row['status']} and its file was deleted; upload the file again.",
        )


def _samples(path: Path, fmt: str, count: int) -> list[list[str]]:
    _, rows = read_rows(path, fmt)
    found: list[list[str]] = []
    for values in rows:
        if len(found) == count:
            break
        if isinstance(values, list) and any(cell.strip() for cell in values):
            found.append(values)
    return found


async def samples(row: dict[str, Any], count: int = 3) -> list[list[str]]:
    """The first ``count`` non-blank data rows of an import's file, as read (empty once the
    import has ended and its file is deleted): examples beside the columns to map."""
    if row["status"] in uploads.ENDED:
        return []
    return await asyncio.to_thread(_samples, Path(row["stored_path"]), row["format"], count)


def _check_file(path: Path, fmt: str, options: ImportOptions, region: str) -> CheckOut:
    header, rows = read_rows(path, fmt)
    total = invalid = 0
    errors: list[dict[str, Any]] = []
    for result in check_rows(header, rows, options, region):
        total += 1
        if result.errors:
            invalid += 1
            room = max(0, CHECK_ERRORS - len(errors))
            errors += [{"row": result.number, "field": f, "message": m} for f, m in result.errors][
                :room
            ]
    return CheckOut(rows=total, valid=total - invalid, invalid=invalid, errors=errors)


async def check(row: dict[str, Any], options: ImportOptions, region: str) -> CheckOut:
    """Check every row of the import's file with ``options``: counts of valid and invalid
    rows and the first :data:`CHECK_ERRORS` errors. Writes nothing.

    Raises:
        Problem: 409 once the import has ended (its file is deleted); 422 for a mapping
            naming unknown fields or columns.
    """
    _still_stored(row)
    return await asyncio.to_thread(
        _check_file, Path(row["stored_path"]), row["format"], options, region
    )


async def confirm(
    row: dict[str, Any], options: ImportOptions, org_id: int, org_path: str, region: str
) -> None:
    """Queue the import with ``options``: the job worker imports the valid rows in one
    transaction (:func:`run_import_job`). Audited
    (``people.import_confirmed``).

    Raises:
        Problem: 409 once it was confirmed, cancelled or has ended; 422 for a mapping naming
            unknown fields or columns.
    """
    _still_stored(row)
    if row["status"] != "uploaded":
        raise Problem(409, "import-started", f"This import is already {row['status']}.")
    header, _ = read_rows(Path(row["stored_path"]), row["format"])
    list(check_rows(header, iter(()), options, region))  # mapping sanity
    async with db.transaction():
        await db.execute(
            "UPDATE person_import SET status = 'queued', options = {} WHERE id = {}",
            msgspec.json.encode(options).decode(),
            row["id"],
        )
        await enqueue(
            IMPORT_JOB,
            {"import_id": row["id"], "org_id": org_id, "org_path": org_path, "region": region},
            dedupe_key=f"people-import-{row['id']}-{row['updated_at'].isoformat()}",
            max_attempts=3,
        )
        await record(
            "people.import_confirmed", object_type="import", object_id=row["id"], org_id=org_id
        )


async def cancel(import_id: int, org_id: int, settings: Settings) -> None:
    """Cancel an import of unit ``org_id`` that has not started, and delete its file.
    Audited (``people.import_cancelled``).

    Raises:
        Problem: 404 for another unit's import; 409 when it runs or has ended.
    """
    await load_import(import_id, org_id)
    async with db.transaction():
        rows = await db.fetch(
            "UPDATE person_import SET status = 'cancelled', updated_at = {} "
            "WHERE id = {} AND status IN ('uploaded', 'queued') RETURNING stored_path",
            utcnow(),
            import_id,
        )
        if rows:
            await record(
                "people.import_cancelled", object_type="import", object_id=import_id, org_id=org_id
            )
    if not rows:
        row = await load_import(import_id, org_id)
        raise Problem(409, "import-started", f"This import is already {row['status']}.")
    await uploads.discard(rows[0]["stored_path"], settings)


async def error_rows(import_id: int, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The rows of an import that were not imported (``row``, ``field``, ``message``), in
    file order (keyset pages)."""
    key = decode_cursor(cursor)
    after = int(key[0]) if key else 0
    rows = await db.fetch(
        "SELECT id, row, field, message FROM person_import_error WHERE import_id = {} "
        "AND id > {} ORDER BY id LIMIT {}",
        import_id,
        after,
        limit + 1,
    )
    return page_of(rows, limit, key=lambda r: [r["id"]])


async def run_import_job(payload: dict[str, Any]) -> None:
    """Job handler: run a confirmed import in one transaction, then delete its file.

    A worker that died mid-import leaves it ``running``: the job, taken over, starts over
    cleanly. An error ends the import as ``failed`` for good (its file is deleted; no retry).
    A finished import is audited (``people.imported``, by the user who uploaded it).
    """
    settings = current_runtime().settings
    row = await db.fetch_one(
        "UPDATE person_import SET status = 'running', updated_at = {} "
        "WHERE id = {} AND status IN ('queued', 'running') RETURNING *",
        utcnow(),
        payload["import_id"],
    )
    if row is None:  # cancelled, or ended meanwhile
        return
    path, fmt = Path(row["stored_path"]), row["format"]
    try:
        options = msgspec.convert(db.json_value(row["options"]), ImportOptions)
        total = await asyncio.to_thread(rows_in, path, fmt)
        await db.execute("UPDATE person_import SET total_rows = {} WHERE id = {}", total, row["id"])
        header, rows = read_rows(path, fmt)
        checked = check_rows(header, rows, options, payload["region"])
        counts = await run_import(
            row["id"],
            payload["org_id"],
            payload["org_path"],
            checked,
            options,
            progress=lambda done: uploads.write_progress(settings, row["id"], done),
        )
    except Exception as exc:
        reason = (exc.detail or exc.title) if isinstance(exc, Problem) else type(exc).__name__
        await db.execute(
            "UPDATE person_import SET status = 'failed', error = {}, updated_at = {} WHERE id = {}",
            str(reason)[:500],
            utcnow(),
            row["id"],
        )
        await uploads.discard(row["stored_path"], settings)
        uploads.drop_progress(settings, row["id"])
        raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc
    await uploads.discard(row["stored_path"], settings)
    uploads.drop_progress(settings, row["id"])
    await record(
        "people.imported",
        user_id=row["user_id"],
        org_id=payload["org_id"],
        object_type="import",
        object_id=row["id"],
        detail={
            "created": counts.created,
            "updated": counts.updated,
            "skipped": counts.skipped,
            "errors": counts.errors,
        },
    )
