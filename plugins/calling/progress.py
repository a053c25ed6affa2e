"""The progress page's figures: counted afresh while that is quick, shared while it is not.

Counting a queue of 200,000 people takes a few hundred milliseconds of database time, too
long for a page an organizer keeps open during a calling evening (it reloads itself every few
seconds). An assignment with ``progress_shared_from`` people to call or more is therefore
served from the last count this server process made, which is refreshed in the background
once it is older than ``progress_refresh_seconds``: the page answers at once and says when
its figures were counted. Smaller assignments (a district's, some thousand people, counted
in a few milliseconds) are counted for every view. The JSON route ``GET …/stats`` always
counts afresh.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.api import current_runtime, utcnow
from plugins.calling.queue import config
from plugins.calling.schemas import Stats
from plugins.calling.stats import assignment_stats

__all__ = ["progress_figures"]

log = logging.getLogger(__name__)

KEEP = 256  # assignments whose last count a process keeps
MAX_AGE = timedelta(minutes=5)  # an older count is never shown: the view counts afresh


@dataclass
class _Count:
    stats: Stats
    at: datetime
    refresh: asyncio.Task[Any] | None = field(default=None, repr=False)


Counts = OrderedDict[tuple[int, str], _Count]
# the last counts of each running app (keyed by its caches: one app, one database)
_apps: weakref.WeakKeyDictionary[Any, Counts] = weakref.WeakKeyDictionary()


def _counts() -> Counts:
    return _apps.setdefault(current_runtime().caches, OrderedDict())


async def _count(key: tuple[int, str], assignment: dict[str, Any], org_path: str) -> _Count:
    counts = _counts()
    at = utcnow()
    fresh = _Count(await assignment_stats(assignment, org_path, at), at)
    counts[key] = fresh
    counts.move_to_end(key)
    while len(counts) > KEEP:
        counts.popitem(last=False)
    return fresh


async def _refresh(key: tuple[int, str], assignment: dict[str, Any], org_path: str) -> None:
    try:
        await _count(key, assignment, org_path)
    except Exception:  # the next view past the refresh time tries again
        log.exception("counting the progress of assignment %s failed", key[0])


async def progress_figures(assignment: dict[str, Any], org_path: str) -> tuple[Stats, datetime]:
    """The assignment's figures (:func:`assignment_stats`) and when they were counted."""
    settings = config()
    key = (assignment["id"], org_path)
    last = _counts().get(key)
    now = utcnow()
    shared = last is not None and last.stats.targets >= settings.progress_shared_from
    if not shared or now - last.at > MAX_AGE:
        last = await _count(key, assignment, org_path)
        return last.stats, last.at
    if now - last.at > timedelta(seconds=settings.progress_refresh_seconds) and (
        last.refresh is None or last.refresh.done()
    ):
        last.refresh = asyncio.create_task(_refresh(key, assignment, org_path))
    return last.stats, last.at
