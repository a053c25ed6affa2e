"""When the weekly digest runs: the job that picks it, once per weekly slot
(``digest_weekday`` at ``digest_hour`` in the deployment's time zone), and the ISO week a
moment belongs to. Apart from :mod:`plugins.linksaktiv.digest`, so that publishing a call
(:mod:`plugins.linksaktiv.calls`) can schedule the run without the digest importing back."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.api import current_runtime, enqueue, utcnow
from plugins.linksaktiv.config import config

__all__ = ["RUN_JOB", "next_slot", "schedule_digest", "week_of"]

RUN_JOB = "linksaktiv.digest"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_runtime().settings.timezone)


def week_of(moment: datetime) -> str:
    """The ISO week of ``moment`` in the deployment's time zone, e.g. ``2026-W49``."""
    year, week, _day = moment.astimezone(_zone()).isocalendar()
    return f"{year}-W{week:02d}"


def next_slot(now: datetime) -> datetime:
    """The next weekly digest time (``digest_weekday`` at ``digest_hour``) after ``now``."""
    settings = config()
    local = now.astimezone(_zone())
    slot = local.replace(hour=settings.digest_hour, minute=0, second=0, microsecond=0)
    slot += timedelta(days=(settings.digest_weekday - local.weekday()) % 7)
    if slot <= local:
        slot += timedelta(days=7)
    return slot


async def schedule_digest(now: datetime | None = None) -> None:
    """Queue the digest run of the next weekly slot (once per slot, however often called)."""
    slot = next_slot(now or utcnow())
    await enqueue(RUN_JOB, {}, run_at=slot, dedupe_key=f"{RUN_JOB}:{slot.isoformat()}")
