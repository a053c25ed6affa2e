"""Tables of the mailings module: mailings and their frozen recipients."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import OrgUnit, Person, Stamped, Versioned

__all__ = ["Mailing", "Recipient", "Sender"]


class Mailing(Stamped, Versioned, Table, tablename="mailings_mailing"):
    """A mailing: subject, sender, a Jinja2/Markdown body and the ``audience`` segment.

    ``state``: draft → scheduled → sending ⇄ paused → sent, or cancelled. ``round`` grows with
    every resume, so the send jobs of a resumed round get fresh dedupe keys. ``send_key`` is
    drawn at random when sending starts and is part of every Message-ID of the mailing.
    """

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    subject = Varchar(length=300)
    sender_name = Varchar(length=200)
    sender_address = Varchar(length=320)
    reply_to = Varchar(length=320, null=True, default=None)
    body = Text(default="")
    audience = JSON(default="{}")
    cta_url = Varchar(length=1000, null=True, default=None)
    cta_label = Varchar(length=200, null=True, default=None)
    scheduled_at = Timestamptz(null=True, default=None)
    state = Varchar(length=12, default="draft")
    round = Integer(default=0)
    total = Integer(default=0)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    sent_by = Integer(null=True, default=None)
    send_key = Varchar(length=32, null=True, default=None)


class Recipient(Stamped, Table, tablename="mailings_recipient"):
    """One person a mailing goes to, frozen when sending starts (unique per mailing+person).

    ``state``: queued → sent | bounced | skipped (not contactable any more at delivery time)
    | failed (the mail cannot be sent to this address, or a temporary error lasted
    :data:`~plugins.mailings.sending.RECIPIENT_ATTEMPTS` attempts); queued → held while the
    mailing is paused; cancelled. A queued row with ``attempts`` > 0 is deferred: ``error``
    says why its last attempt failed. ``person``/``email`` are cleared when the person is
    erased, so the statistics stay.
    """

    mailing = ForeignKey(Mailing, on_delete=OnDelete.cascade, db_column_name="mailing_id")
    person = ForeignKey(
        Person, on_delete=OnDelete.set_null, null=True, default=None, db_column_name="person_id"
    )
    email = Varchar(length=320, null=True, default=None)
    state = Varchar(length=10, default="queued")
    sent_at = Timestamptz(null=True, default=None)
    opened_at = Timestamptz(null=True, default=None)
    clicked_at = Timestamptz(null=True, default=None)
    unsubscribed_at = Timestamptz(null=True, default=None)
    unsubscribe_scope = Varchar(length=5, null=True, default=None)
    error = Text(null=True, default=None)
    attempts = Integer(default=0)


class Sender(Stamped, Table, tablename="mailings_sender"):
    """A unit's sender identity (one per unit); units below without their own inherit it."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    name = Varchar(length=200)
    address = Varchar(length=320)
    reply_to = Varchar(length=320, null=True, default=None)
