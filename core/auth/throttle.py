"""Counting attempts for throttling (failed logins, reset requests) across processes.

An attempt is a row in ``login_attempt``: a SHA-256 of what it counts against (an account, a
client address, a pair of both; prefixed by the kind, so login and reset counts never mix)
and its time. Counts look back over :data:`WINDOW`, so every server process sees the same
numbers and nothing has to be unlocked by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from core import db
from core.auth.tables import LoginAttempt
from core.problems import N_, Problem
from core.tables import utcnow

__all__ = ["WINDOW", "counts", "key", "note", "refused"]

WINDOW = timedelta(minutes=15)


def key(kind: str, *values: str) -> str:
    """The stored key of ``kind`` (e.g. ``"account"``) for ``values`` (a hash, never the value)."""
    return hashlib.sha256(":".join((kind, "\n".join(values))).encode()).hexdigest()


async def counts(keys: Iterable[str]) -> dict[str, int]:
    """Attempts per key within the window (0 for a key without any)."""
    keys = list(keys)
    marks = ", ".join(["{}"] * len(keys))
    rows = await db.fetch(
        f"SELECT key, COUNT(*) AS n FROM login_attempt WHERE at > {{}} AND key IN ({marks}) "
        "GROUP BY key",
        utcnow() - WINDOW,
        *keys,
    )
    found = {row["key"]: row["n"] for row in rows}
    return {k: found.get(k, 0) for k in keys}


async def note(keys: Iterable[str]) -> None:
    """Count one attempt against each of ``keys``."""
    now = utcnow()
    await LoginAttempt.insert(*[LoginAttempt(key=k, at=now) for k in keys]).run()


def refused(slug: str, detail: str) -> Problem:
    """429 with ``Retry-After`` (the window): the caller is over a limit."""
    return Problem(
        429,
        slug,
        detail,
        title=N_("Too many requests"),
        headers={"Retry-After": str(int(WINDOW.total_seconds()))},
    )
