"""Tables of the events module."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import Stamped
from core.orgs.tables import OrgUnit

__all__ = ["Event"]


class Event(Stamped, Table, tablename="events_event"):
    """An event or action of a unit; ``state`` is draft, published or cancelled."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    description = Text(default="")
    type = Varchar(length=50)
    start_at = Timestamptz()
    end_at = Timestamptz()
    timezone = Varchar(length=64, default="Europe/Berlin")
    location = JSON(null=True, default=None)
    campaign = Varchar(length=200, null=True, default=None)
    contact_person_id = Integer(null=True, default=None)
    participants_needed = Integer(null=True, default=None)
    capacity = Integer(null=True, default=None)
    visibility = Varchar(length=10, default="public")
    state = Varchar(length=10, default="draft")
