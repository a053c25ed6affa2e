"""Mailing services."""

from __future__ import annotations

from typing import Any

from core import db
from core.api import to_row
from plugins.mailings.schemas import MailingIn, MailingOut
from plugins.mailings.tables import Mailing

__all__ = ["create_mailing", "mailing_out"]


def mailing_out(row: dict[str, Any]) -> MailingOut:
    """Turn a table row into the API shape."""
    audience = db.json_value(row["audience"])
    values = {k: row[k] for k in MailingOut.__struct_fields__ if k not in ("org_id", "audience")}
    return MailingOut(org_id=row["org_id"], audience=audience, **values)


async def create_mailing(org_id: int, data: MailingIn) -> dict[str, Any]:
    """Insert a mailing draft for unit ``org_id``."""
    rows = await Mailing.insert(Mailing(org=org_id, **to_row(data))).run()
    row = await Mailing.select().where(Mailing.id == rows[0]["id"]).first().run()
    assert row is not None
    return row
