"""The audit log table. Rows hold ids and action names only, never personal data."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = ["AuditEntry"]


class AuditEntry(Table, tablename="audit_log"):
    """One accountable action. ``user_id``/``org_id`` are plain ids so rows outlive erasure."""

    at = Timestamptz(default=TimestamptzNow())
    user_id = Integer(null=True, default=None)
    token_id = Integer(null=True, default=None)
    action = Varchar(length=100)
    object_type = Varchar(length=50, null=True, default=None)
    object_id = Integer(null=True, default=None)
    org_id = Integer(null=True, default=None)
    detail = JSON(null=True, default=None)
