"""Enqueue, claim and finish jobs. The one job queue of orga.

``enqueue`` joins the caller's transaction, so a domain write and its job commit together
(outbox). Claiming is a conditional UPDATE: on PostgreSQL the candidates are picked with
``FOR UPDATE SKIP LOCKED`` and the UPDATE re-checks the status, on SQLite it runs inside an
IMMEDIATE transaction. Either way a job cannot be claimed twice. Handlers must be idempotent:
a job whose worker dies after doing the work but before marking it done runs again once its
lease expires.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from core import db
from core.problems import forbidden, not_found
from core.tables import utcnow

__all__ = [
    "PermanentJobError",
    "backoff",
    "cancel",
    "claim",
    "enqueue",
    "mark_done",
    "mark_failed",
    "purge_finished",
    "queue_overview",
    "queue_stats",
    "release",
    "retry",
]

DEFAULT_LEASE = timedelta(minutes=5)


class PermanentJobError(Exception):
    """Raised by a handler for an error that retrying cannot fix (the job fails at once)."""


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: ~10 s, 20 s, 40 s … capped at one hour."""
    base = min(3600.0, 10.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter


async def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
    person_id: int | None = None,
) -> int | None:
    """Add a job (inside the current transaction if there is one).

    ``person_id`` names the person whose data the payload holds (a mail to them, a test mail
    rendered for them): erasing that person deletes the job.
    Returns the job id, or ``None`` when a job with ``dedupe_key`` already exists.
    """
    now = utcnow()
    rows = await db.fetch(
        "INSERT INTO job (kind, payload, run_at, attempts, max_attempts, status, dedupe_key, "
        "person_id, created_at, updated_at) VALUES ({}, {}, {}, 0, {}, 'queued', {}, {}, {}, {}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        kind,
        json.dumps(payload or {}),
        run_at or now,
        max_attempts,
        dedupe_key,
        person_id,
        now,
        now,
    )
    return rows[0]["id"] if rows else None


async def enqueue_many(
    kind: str, payloads: list[tuple[dict[str, Any], str | None]], max_attempts: int = 8
) -> int:
    """Add many jobs of one kind in one statement per chunk; returns how many were new."""
    now = utcnow()
    added = 0
    for start in range(0, len(payloads), 500):
        chunk = payloads[start : start + 500]
        values = ", ".join(["({}, {}, {}, 0, {}, 'queued', {}, {}, {})"] * len(chunk))
        args: list[Any] = []
        for payload, dedupe_key in chunk:
            args += [kind, json.dumps(payload), now, max_attempts, dedupe_key, now, now]
        rows = await db.fetch(
            "INSERT INTO job (kind, payload, run_at, attempts, max_attempts, status, dedupe_key, "
            f"created_at, updated_at) VALUES {values} ON CONFLICT (dedupe_key) DO NOTHING "
            "RETURNING id",
            *args,
        )
        added += len(rows)
    return added


_CLAIMABLE = (
    "((status = 'queued' AND run_at <= {now}) OR (status = 'running' AND lease_expires_at < {now}))"
)


async def claim(
    worker_id: str, limit: int, kinds: list[str], lease: timedelta = DEFAULT_LEASE
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due jobs of ``kinds`` for ``worker_id``; returns them as dicts."""
    if limit <= 0 or not kinds:
        return []
    now = utcnow()
    kind_list = ", ".join(["{}"] * len(kinds))
    claimable = _CLAIMABLE.format(now="{}")
    pick = (
        f"SELECT id FROM job WHERE {claimable} AND kind IN ({kind_list}) "
        "ORDER BY run_at, id LIMIT {}"
    )
    update = (
        "UPDATE job SET status = 'running', attempts = attempts + 1, locked_by = {}, "
        "lease_expires_at = {}, updated_at = {} "
    )
    returning = " RETURNING job.id, job.kind, job.payload, job.attempts, job.max_attempts"
    if db.is_postgres():
        # A materialized CTE runs the SKIP LOCKED pick exactly once: as a plain IN-subquery
        # PostgreSQL may re-run it and claim more than LIMIT rows. The re-checked status keeps
        # a double claim impossible even without the lock.
        sql = (
            f"WITH picked AS MATERIALIZED ({pick} FOR UPDATE SKIP LOCKED) {update}"
            f"FROM picked WHERE job.id = picked.id AND {claimable}{returning}"
        )
        args = [now, now, *kinds, limit, worker_id, now + lease, now, now, now]
        rows = await db.fetch(sql, *args)
    else:  # IMMEDIATE transaction: the only writer while it picks and updates
        sql = f"{update}WHERE id IN ({pick}) AND {claimable}{returning}"
        args = [worker_id, now + lease, now, now, now, *kinds, limit, now, now]
        async with db.transaction():
            rows = await db.fetch(sql, *args)
    for row in rows:
        row["payload"] = db.json_value(row["payload"])
    return sorted(rows, key=lambda r: r["id"])


async def mark_done(job_id: int, worker_id: str) -> bool:
    """Finish a job the worker still holds (``locked_by`` keeps who ran it).

    Returns ``False`` when the lease was lost meanwhile and another worker took the job over.
    """
    now = utcnow()
    rows = await db.fetch(
        "UPDATE job SET status = 'done', finished_at = {}, updated_at = {}, "
        "lease_expires_at = NULL WHERE id = {} AND locked_by = {} AND status = 'running' "
        "RETURNING id",
        now,
        now,
        job_id,
        worker_id,
    )
    return bool(rows)


async def mark_failed(
    job_id: int, worker_id: str, error: str, attempts: int, max_attempts: int, permanent: bool
) -> str:
    """Record an error: retry later with backoff, or fail for good. Returns the new status."""
    now = utcnow()
    final = permanent or attempts >= max_attempts
    status = "failed" if final else "queued"
    await db.execute(
        "UPDATE job SET status = {}, last_error = {}, run_at = {}, finished_at = {}, "
        "locked_by = NULL, lease_expires_at = NULL, updated_at = {} "
        "WHERE id = {} AND locked_by = {} AND status = 'running'",
        status,
        error[:2000],
        now if final else now + backoff(attempts),
        now if final else None,
        now,
        job_id,
        worker_id,
    )
    return status


async def release(job_ids: list[int], worker_id: str) -> None:
    """Give claimed but unfinished jobs back (graceful shutdown); the attempt is not counted."""
    for job_id in job_ids:
        await db.execute(
            "UPDATE job SET status = 'queued', attempts = attempts - 1, locked_by = NULL, "
            "lease_expires_at = NULL, updated_at = {} "
            "WHERE id = {} AND locked_by = {} AND status = 'running'",
            utcnow(),
            job_id,
            worker_id,
        )


async def retry(job_id: int) -> None:
    """Queue a failed or cancelled job again, now, with a fresh attempt budget."""
    rows = await db.fetch(
        "UPDATE job SET status = 'queued', attempts = 0, run_at = {}, finished_at = NULL, "
        "updated_at = {} WHERE id = {} AND status IN ('failed', 'cancelled') RETURNING id",
        utcnow(),
        utcnow(),
        job_id,
    )
    if not rows:
        raise not_found("failed or cancelled job")


async def cancel(job_id: int) -> None:
    """Cancel a queued job (a running one finishes; it cannot be taken back)."""
    rows = await db.fetch(
        "UPDATE job SET status = 'cancelled', finished_at = {}, updated_at = {} "
        "WHERE id = {} AND status = 'queued' RETURNING id",
        utcnow(),
        utcnow(),
        job_id,
    )
    if not rows:
        raise not_found("queued job")


async def purge_finished(before: datetime) -> int:
    """Delete done, failed and cancelled jobs finished before ``before`` (their payloads can
    hold personal data such as rendered mails); returns how many went."""
    rows = await db.fetch(
        "DELETE FROM job WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < {} "
        "RETURNING id",
        before,
    )
    return len(rows)


# Waiting for (or in) another attempt after an error; ``retry`` resets attempts, so a job
# queued again by hand counts once it fails again.
_RETRYING = "status IN ('queued', 'running') AND attempts > 0 AND last_error IS NOT NULL"


async def queue_overview(actor: Any) -> dict[str, Any]:
    """:func:`queue_stats` for ``actor`` (a ``core.auth.actor.Actor``), who needs
    ``jobs.view`` on a root unit: the queue is deployment-wide.

    Raises:
        Problem: 403 naming ``jobs.view`` without it.
    """
    roots = await db.fetch("SELECT path FROM org_unit WHERE parent_id IS NULL")
    if not any(actor.can("jobs.view", row["path"]) for row in roots):
        raise forbidden("jobs.view")
    return await queue_stats()


async def queue_stats(failures: int = 20) -> dict[str, Any]:
    """Counts per kind and status, the oldest due job's age, the latest failures, and the jobs
    that keep failing (``retrying``: errored, waiting for another attempt), most tried first."""
    counts = await db.fetch(
        "SELECT kind, status, COUNT(*) AS n FROM job GROUP BY kind, status ORDER BY kind, status"
    )
    retrying_counts = await db.fetch(
        f"SELECT kind, COUNT(*) AS n FROM job WHERE {_RETRYING} GROUP BY kind ORDER BY kind"
    )
    retrying = await db.fetch(
        "SELECT id, kind, attempts, max_attempts, last_error, run_at AS next_attempt_at "
        f"FROM job WHERE {_RETRYING} ORDER BY attempts DESC, id LIMIT {{}}",
        failures,
    )
    oldest = await db.fetch_one(
        "SELECT MIN(run_at) AS oldest FROM job WHERE status = 'queued' AND run_at <= {}", utcnow()
    )
    failed = await db.fetch(
        "SELECT id, kind, attempts, last_error, finished_at FROM job WHERE status = 'failed' "
        "ORDER BY id DESC LIMIT {}",
        failures,
    )
    oldest_at = oldest["oldest"] if oldest else None
    if isinstance(oldest_at, str):
        oldest_at = datetime.fromisoformat(oldest_at)
    return {
        "counts": counts,
        "oldest_due_seconds": (utcnow() - oldest_at).total_seconds() if oldest_at else 0.0,
        "failures": failed,
        "retrying": retrying,
        "retrying_counts": retrying_counts,
    }
