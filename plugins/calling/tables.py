"""Tables of the calling module."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import Stamped
from core.orgs.tables import OrgUnit

__all__ = ["CallAssignment"]


class CallAssignment(Stamped, Table, tablename="calling_assignment"):
    """Whom to call (``target`` segment), who counts as done (``goal``), and the survey."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    description = Text(default="")
    instructions = Text(default="")
    target = JSON(default="{}")
    goal = JSON(null=True, default=None)
    cooldown_hours = Integer(default=24)
    start_at = Timestamptz(null=True, default=None)
    end_at = Timestamptz(null=True, default=None)
    survey = JSON(default="[]")
    show_earlier_notes = Boolean(default=False)
