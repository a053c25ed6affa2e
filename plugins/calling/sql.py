"""Small SQL pieces the calling services share."""

from __future__ import annotations

from core.api import db

__all__ = ["in_list", "timestamp_param"]


def timestamp_param() -> str:
    """A timestamp placeholder usable in a SELECT list (PostgreSQL needs its type spelled out)."""
    return "CAST({} AS TIMESTAMPTZ)" if db.is_postgres() else "{}"


def in_list(values: list[object]) -> str:
    """``{}, {}, …`` placeholders for an IN list of ``values``."""
    return ", ".join(["{}"] * len(values))
