"""Addresses that bounced permanently."""

from __future__ import annotations

from piccolo.columns import Text, Varchar
from piccolo.table import Table

from core.tables import Stamped

__all__ = ["MailSuppression"]


class MailSuppression(Stamped, Table, tablename="mail_suppression"):
    """An address the SMTP server refused permanently (5xx); bulk mail skips it."""

    email = Varchar(length=320, unique=True)
    reason = Text(default="")
