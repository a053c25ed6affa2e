"""Tables of org units and per-unit module settings."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables import Stamped

__all__ = ["OrgModule", "OrgPostcode", "OrgUnit"]


class OrgUnit(Stamped, Table, tablename="org_unit"):
    """A unit of the party (federal, state, district, local group; ``kind`` is free text).

    ``path`` is the materialized path of ids (``/1/5/23/``), so "this unit and everything
    below" is one prefix match on an indexed column.
    """

    name = Varchar(length=200)
    kind = Varchar(length=100)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict, db_column_name="parent_id")
    path = Varchar(length=1000, index=True)
    office = JSON(null=True, default=None)


class OrgModule(Stamped, Table, tablename="org_module"):
    """Whether a module is on for a unit; the nearest explicit setting up the tree wins."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    module = Varchar(length=100)
    enabled = Boolean(default=False)


class OrgPostcode(Stamped, Table, tablename="org_postcode"):
    """Postal codes a unit covers: one code (``code_from == code_to``) or an inclusive range.

    Codes of one range have the same length, so text comparison orders them like numbers.
    """

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    code_from = Varchar(length=20)
    code_to = Varchar(length=20)
