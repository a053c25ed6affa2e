"""Tables of the mailings module."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import Stamped
from core.orgs.tables import OrgUnit

__all__ = ["Mailing"]


class Mailing(Stamped, Table, tablename="mailings_mailing"):
    """A mailing: subject, sender, a Jinja2 body and the ``audience`` segment."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    subject = Varchar(length=300)
    sender_name = Varchar(length=200)
    sender_address = Varchar(length=320)
    reply_to = Varchar(length=320, null=True, default=None)
    body = Text(default="")
    audience = JSON(default="{}")
    cta_url = Varchar(length=1000, null=True, default=None)
    scheduled_at = Timestamptz(null=True, default=None)
    state = Varchar(length=12, default="draft")
