"""``GET /api/jobs``: queue depth and failures, for admins of a root unit."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import get

from core.auth.actor import Actor
from core.auth.guards import authenticated
from core.jobs.services import queue_overview

__all__ = ["jobs_overview"]


class KindCount(msgspec.Struct):
    """How many jobs of a kind are in a status."""

    kind: str
    status: str
    n: int


class FailedJob(msgspec.Struct):
    """A job that failed for good."""

    id: int
    kind: str
    attempts: int
    last_error: str | None
    finished_at: datetime | None


class RetryingJob(msgspec.Struct):
    """A job that failed and waits for its next attempt (``last_error`` says why)."""

    id: int
    kind: str
    attempts: int
    max_attempts: int
    last_error: str | None
    next_attempt_at: datetime


class JobsOverview(msgspec.Struct):
    """The state of the job queue: ``failures`` failed for good, ``retrying`` keep failing."""

    counts: list[KindCount]
    oldest_due_seconds: float
    failures: list[FailedJob]
    retrying: list[RetryingJob]


@get("/api/jobs", guards=[authenticated], tags=["system"], summary="Job queue depth and failures")
async def jobs_overview(actor: Actor) -> JobsOverview:
    """Counts by kind and status, how long the oldest due job waits, the latest failures and
    the jobs that keep failing (retried with backoff until they succeed or run out).

    The queue is deployment-wide, so this needs ``jobs.view`` on a root unit.
    """
    return msgspec.convert(await queue_overview(actor), JobsOverview)
