"""Saved segments."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.orgs.tables import OrgUnit
from core.tables import Stamped

__all__ = ["SavedSegment"]


class SavedSegment(Stamped, Table, tablename="segment"):
    """A named segment of a unit (its filters as JSON)."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    name = Varchar(length=200)
    definition = JSON(default="{}")
