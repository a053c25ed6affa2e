"""Tables of the linksaktiv module."""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import Stamped
from core.orgs.tables import OrgUnit

__all__ = ["Edition"]


class Edition(Stamped, Table, tablename="linksaktiv_edition"):
    """An edition of the campaign newspaper: how many copies, bundled how."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    date = Date()
    copies = Integer()
    bundle_size = Integer(default=50)
