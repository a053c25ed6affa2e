"""Shared table building blocks: the ``Stamped`` mixin and a UTC clock."""

from __future__ import annotations

from datetime import UTC, datetime

from piccolo.columns import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow

__all__ = ["Stamped", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Stamped:
    """Mixin giving a Piccolo table ``created_at`` and ``updated_at`` (UTC, tz-aware)."""

    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=utcnow)
