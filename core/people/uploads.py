"""Uploaded import files: stored privately and deleted as soon as their import ends.

An upload lives in ``<ORGA_VAR_DIR>/imports/<random>.upload`` (0600, like every file orga
writes) only while its import may still need it: it is deleted when the import is done,
failed, cancelled, or ``ORGA_IMPORT_UPLOAD_HOURS`` after the upload if it was never confirmed
(a ``people.import_expire`` job queued with the upload), and right away when the upload is
rejected. ``orga people import`` reads the operator's own file, which orga never deletes.

While an import runs, ``<id>.progress`` beside the uploads says how many of the file's rows
it has read (:func:`write_progress`): the import's own transaction cannot say it, since no
other connection sees its writes before it commits (and on SQLite none may write meanwhile).
The file goes when the import ends.

An import whose process died (a killed ``orga people import``, a crashed worker) stays
``running``; :func:`fail_interrupted` marks it failed. A live import holds a lock for its whole
transaction (the row on PostgreSQL, the write lock on SQLite), so only dead ones are marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.datastructures import UploadFile

from core import db
from core.context import current_runtime
from core.jobs.services import enqueue
from core.settings import Settings
from core.tables import utcnow

__all__ = [
    "ENDED",
    "EXPIRE_JOB",
    "INTERRUPTED",
    "MAX_UPLOAD",
    "discard",
    "drop_progress",
    "expire_job",
    "fail_interrupted",
    "folder",
    "read_progress",
    "schedule_expiry",
    "store",
    "write_progress",
]

EXPIRE_JOB = "people.import_expire"
MAX_UPLOAD = 512 * 1024 * 1024
"""The largest file an upload may send (bytes)."""
ENDED = ("done", "failed", "cancelled", "expired")
INTERRUPTED = "interrupted: the process running it ended before it finished; nothing was written"
_START_GRACE = timedelta(minutes=1)  # from marking "running" to holding the lock


def folder(settings: Settings) -> Path:
    """Where uploads are kept."""
    return Path(settings.var_dir) / "imports"


async def store(upload: UploadFile, settings: Settings) -> Path:
    """Write an uploaded file to the uploads folder under a random name."""
    target_folder = folder(settings)
    await asyncio.to_thread(target_folder.mkdir, parents=True, exist_ok=True)
    target = target_folder / f"{uuid.uuid4().hex}.upload"
    out = await asyncio.to_thread(target.open, "wb")
    try:
        while chunk := await upload.read(1024 * 1024):
            await asyncio.to_thread(out.write, chunk)
    finally:
        out.close()
    return target


async def discard(stored_path: str, settings: Settings) -> None:
    """Delete an import's uploaded file; a path outside the uploads folder (the file an
    ``orga people import`` read in place) is left alone."""
    path = Path(stored_path)
    if not stored_path or path.suffix != ".upload":
        return
    if path.parent.resolve() == folder(settings).resolve():
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _progress_path(settings: Settings, import_id: int) -> Path:
    return folder(settings) / f"{int(import_id)}.progress"


def write_progress(settings: Settings, import_id: int, done_rows: int) -> None:
    """Record that a running import has read ``done_rows`` rows of its file (atomically: a
    reader sees the old count or the new one)."""
    target = _progress_path(settings, import_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(f".{os.getpid()}.tmp")
    scratch.write_text(str(done_rows))
    scratch.replace(target)


def read_progress(settings: Settings, import_id: int) -> int:
    """Rows a running import has read so far (0 before its first chunk)."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        return int(_progress_path(settings, import_id).read_text())
    return 0


def drop_progress(settings: Settings, import_id: int) -> None:
    """Forget an import's progress (it ended)."""
    _progress_path(settings, import_id).unlink(missing_ok=True)


async def schedule_expiry(import_id: int, settings: Settings) -> None:
    """Queue the deletion of an upload that is never confirmed (in the caller's transaction)."""
    await enqueue(
        EXPIRE_JOB,
        {"import_id": import_id},
        run_at=utcnow() + timedelta(hours=settings.import_upload_hours),
        dedupe_key=f"{EXPIRE_JOB}:{import_id}",
    )


async def expire_job(payload: dict[str, Any]) -> None:
    """Job handler: an import still unconfirmed expires; the file of any ended import goes."""
    now = utcnow()
    await db.execute(
        "UPDATE person_import SET status = 'expired', updated_at = {} "
        "WHERE id = {} AND status = 'uploaded'",
        now,
        payload["import_id"],
    )
    row = await db.fetch_one(
        "SELECT status, stored_path FROM person_import WHERE id = {}", payload["import_id"]
    )
    if row is not None and row["status"] in ENDED:
        await discard(row["stored_path"], current_runtime().settings)


async def fail_interrupted(settings: Settings) -> list[int]:
    """Mark imports left ``running`` by a process that died as failed (and delete their
    uploads); returns their ids. Imports still running elsewhere are left alone."""
    cutoff = utcnow() - _START_GRACE
    stale = await db.fetch(
        "SELECT id FROM person_import WHERE status = 'running' AND updated_at < {}", cutoff
    )
    if not stale:
        return []
    # A live import holds its row (PostgreSQL) or the database's write lock (SQLite).
    pick = "SELECT id FROM person_import WHERE status = 'running' AND updated_at < {}"
    if db.is_postgres():
        pick += " FOR UPDATE SKIP LOCKED"
    try:
        rows = await db.fetch(
            f"UPDATE person_import SET status = 'failed', error = {{}}, updated_at = {{}} "
            f"WHERE id IN ({pick}) AND status = 'running' RETURNING id, stored_path",
            INTERRUPTED,
            utcnow(),
            cutoff,
        )
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return []  # an import is running; which of the rows is its, SQLite cannot tell
    for row in rows:
        await discard(row["stored_path"], settings)
        drop_progress(settings, row["id"])
    return sorted(row["id"] for row in rows)
