"""Data subject rights: access export (Art. 15/20) and erasure (Art. 17)."""

from __future__ import annotations

import functools
import io
import logging
import zipfile
from typing import Any

import msgspec

from core import db
from core.audit.services import record
from core.context import runtime_or_none
from core.modules import ModuleRegistry
from core.people.services import load_people
from core.spreadsheets import CsvWriter

__all__ = ["erase_person", "export_person", "export_zip"]

log = logging.getLogger("orga.people")


async def export_person(
    person_row: dict[str, Any],
    registry: ModuleRegistry,
    *,
    org_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything orga and every module store about the person, as plain JSON data; the
    export is audited (``person.exported`` in unit ``org_id``, default the home unit)."""
    person_id = person_row["id"]
    await record(
        "person.exported",
        object_type="person",
        object_id=person_id,
        org_id=org_id if org_id is not None else person_row["home_org_id"],
        detail=detail,
    )
    [person] = await load_people([person_row])
    history = await db.fetch(
        "SELECT channel, purpose, status, source, reference, wording, at FROM consent_event "
        "WHERE person_id = {} ORDER BY id",
        person_id,
    )
    phones = await db.fetch(
        "SELECT e164, valid, position FROM person_phone WHERE person_id = {} ORDER BY position",
        person_id,
    )
    modules = dict(await registry.gather_each("person_export", person_id=person_id))
    return msgspec.to_builtins(
        {
            "person": person,
            "phones": phones,
            "consent_history": history,
            "modules": modules,
        }
    )


def _rows_of(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"value": v} for v in value]
    if isinstance(value, dict):
        return [value]
    return [{"value": value}]


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    writer = CsvWriter()
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row.get(c) for c in columns)
    return writer.take()


def export_zip(export: dict[str, Any]) -> bytes:
    """The export as a ZIP of CSV files, one per section, for handing out (cells are
    formula-safe: core's :class:`~core.spreadsheets.CsvWriter`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.csv", _csv([export["person"]]))
        archive.writestr("phones.csv", _csv(export["phones"]))
        archive.writestr("consent_history.csv", _csv(export["consent_history"]))
        for module, data in export["modules"].items():
            if isinstance(data, dict) and all(isinstance(v, list) for v in data.values()):
                for section, rows in data.items():
                    archive.writestr(f"{module}/{section}.csv", _csv(_rows_of(rows)))
            else:
                archive.writestr(f"{module}.csv", _csv(_rows_of(data)))
    return buffer.getvalue()


async def erase_person(
    person_row: dict[str, Any],
    registry: ModuleRegistry,
    *,
    org_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Delete the person, their phones, tags, consent history and import error rows, the jobs
    holding their data, and let every module erase its data — all in one transaction with its
    audit row ``person.erased`` (``org_id``: the unit acted in, default the home unit;
    ``detail``: how, e.g. ``{"by": "self"}``). Once it commits, the copies a maildir kept of
    mail to or about them are deleted and SQLite's write-ahead log is emptied into the
    database file (``secure_delete`` zeroed the rows)."""
    person_id = person_row["id"]
    addresses = [person_row["email"]] if person_row["email"] else []
    needles = addresses + [
        r["e164"]
        for r in await db.fetch("SELECT e164 FROM person_phone WHERE person_id = {}", person_id)
    ]
    async with db.transaction():
        await registry.gather("person_erase", person_id=person_id)
        await db.execute("DELETE FROM job WHERE person_id = {}", person_id)
        for needle in needles:  # jobs enqueued without a person id
            pattern = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            await db.execute(
                "DELETE FROM job WHERE CAST(payload AS TEXT) LIKE {} ESCAPE '\\'", f"%{pattern}%"
            )
            await db.execute("DELETE FROM mail_suppression WHERE email = {}", needle)
        await db.execute("UPDATE orga_user SET person_id = NULL WHERE person_id = {}", person_id)
        await db.execute("DELETE FROM person WHERE id = {}", person_id)
        await record(
            "person.erased",
            object_type="person",
            object_id=person_id,
            org_id=org_id if org_id is not None else person_row["home_org_id"],
            detail=detail,
        )
        db.after_commit(functools.partial(_erase_copies, person_id, addresses))


async def _erase_copies(person_id: int, addresses: list[str]) -> None:
    """After the erasure committed: mail copies outside the database, then the WAL."""
    runtime = runtime_or_none()
    if runtime is not None:
        await runtime.mailer.transport.forget(person_id, addresses)
    if not await db.checkpoint():
        log.warning(
            "erasure: a reader kept part of the SQLite log; it empties at the next checkpoint"
        )
