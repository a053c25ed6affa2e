"""Shared table building blocks: the ``Stamped`` and ``Versioned`` mixins, a UTC clock and the
input type for points in time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from piccolo.columns import Integer, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow

__all__ = ["AwareDatetime", "Stamped", "Versioned", "utcnow"]

#: A point in time in a request: it must carry its offset (``…Z`` or ``…+01:00``), so it can
#: be compared with the timezone-aware times orga stores; a naive one is a 422 naming the field.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Stamped:
    """Mixin giving a Piccolo table ``created_at`` and ``updated_at`` (UTC, tz-aware)."""

    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=utcnow)


class Versioned:
    """Mixin giving a Piccolo table ``version``: a database trigger adds one to it on every
    UPDATE of a row (:func:`core.migrations.add_version` in the table's migration), and the
    record's ETag is derived from it (:mod:`core.etags`)."""

    version = Integer(default=0)
