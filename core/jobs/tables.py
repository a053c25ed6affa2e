"""The job table."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.tables import Stamped

__all__ = ["Job"]


class Job(Stamped, Table, tablename="job"):
    """A unit of background work.

    ``status``: queued → running → done, or back to queued with a later ``run_at`` after an
    error, failed after ``max_attempts``, or cancelled. A running job whose
    ``lease_expires_at`` has passed belongs to a dead worker and is claimed again.
    ``dedupe_key`` is unique, so enqueueing the same work twice is a no-op. ``person_id`` names
    the person whose data the payload holds (no foreign key: jobs know nothing of people);
    erasing the person deletes their jobs.
    """

    kind = Varchar(length=100)
    payload = JSON(default="{}")
    run_at = Timestamptz()
    attempts = Integer(default=0)
    max_attempts = Integer(default=8)
    status = Varchar(length=10, default="queued")
    last_error = Text(null=True, default=None)
    dedupe_key = Varchar(length=200, null=True, default=None)
    locked_by = Varchar(length=100, null=True, default=None)
    lease_expires_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    person_id = Integer(null=True, default=None)
