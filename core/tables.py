"""Shared table building blocks: the ``Stamped`` and ``Versioned`` mixins, a UTC clock, the
input type for points in time, and a Struct's fields as column values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from piccolo.columns import Integer, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow

__all__ = ["AwareDatetime", "Stamped", "Versioned", "to_row", "utcnow"]

#: A point in time in a request: it must carry its offset (``…Z`` or ``…+01:00``), so it can
#: be compared with the timezone-aware times orga stores; a naive one is a 422 naming the field.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def to_row(data: msgspec.Struct) -> dict[str, Any]:
    """A Struct's fields as column values: dates stay objects, nested Structs become JSON data."""
    values = {}
    for name, value in msgspec.structs.asdict(data).items():
        if value is msgspec.UNSET:
            continue
        plain = isinstance(value, (str, int, float, bool, datetime, date)) or value is None
        values[name] = value if plain else msgspec.to_builtins(value)
    return values


class Stamped:
    """Mixin giving a Piccolo table ``created_at`` and ``updated_at`` (UTC, tz-aware)."""

    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=utcnow)


class Versioned:
    """Mixin giving a Piccolo table ``version``: a database trigger adds one to it on every
    UPDATE of a row (:func:`core.migrations.add_version` in the table's migration), and the
    record's ETag is derived from it (:mod:`core.etags`)."""

    version = Integer(default=0)
