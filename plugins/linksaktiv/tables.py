"""Tables of the linksaktiv module."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import OrgUnit, Person, Stamped

__all__ = [
    "Activist",
    "Call",
    "CallDone",
    "DigestItem",
    "Edition",
    "Interest",
    "Order",
    "Referral",
    "ReferralStep",
    "Topic",
]


class Topic(Stamped, Table, tablename="linksaktiv_topic"):
    """A topic people care about (care, rent, …); one list per deployment."""

    slug = Varchar(length=50, unique=True)
    title = Varchar(length=200)
    active = Boolean(default=True)


class Activist(Stamped, Table, tablename="linksaktiv_activist"):
    """A person in the network: how they came, what they offer, whether they confirmed.

    ``status``: pending (sign-up, waiting for the double opt-in), confirmed, unsubscribed.
    The home unit is the person's (``person.home_org_id``), set from the postal code.
    """

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    status = Varchar(length=20, default="pending")
    source = Varchar(length=30, default="web")
    source_org = ForeignKey(
        OrgUnit, null=True, on_delete=OnDelete.set_null, db_column_name="source_org_id"
    )
    help = JSON(default="[]")
    consent_wording = Text(default="")
    confirmed_at = Timestamptz(null=True, default=None)
    last_active_at = Timestamptz(null=True, default=None)
    digest_week = Varchar(length=10, null=True, default=None)


class Interest(Table, tablename="linksaktiv_interest"):
    """A person is interested in a topic."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    topic = ForeignKey(Topic, on_delete=OnDelete.cascade, db_column_name="topic_id")


class Call(Stamped, Table, tablename="linksaktiv_call"):
    """A call to action of a unit for the activists of its region interested in its topics.

    ``region_ids``: units of the unit's subtree the call is for (empty: the whole subtree);
    ``published_at``: ``None`` while it is a draft nobody sees.
    """

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    text = Text(default="")
    kind = Varchar(length=20, default="offline")
    link = Varchar(length=1000, null=True, default=None)
    event_id = Integer(null=True, default=None)
    topic_ids = JSON(default="[]")
    starts_at = Timestamptz()
    deadline = Timestamptz(null=True, default=None)
    region_ids = JSON(default="[]")
    published_at = Timestamptz(null=True, default=None)


class CallDone(Table, tablename="linksaktiv_call_done"):
    """A person did a call to action ("I did it")."""

    call = ForeignKey(Call, on_delete=OnDelete.cascade, db_column_name="call_id")
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    done_at = Timestamptz()


class DigestItem(Table, tablename="linksaktiv_digest_item"):
    """A call to action put in an activist's weekly digest (``week``: ``2026-W49``); one row
    per activist and call, so a call is in at most one digest of each activist.
    ``mailed_at`` is set in the transaction that queues the mail."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    call = ForeignKey(Call, on_delete=OnDelete.cascade, db_column_name="call_id")
    week = Varchar(length=10)
    queued_at = Timestamptz()
    mailed_at = Timestamptz(null=True, default=None)


class Edition(Stamped, Table, tablename="linksaktiv_edition"):
    """An edition of the campaign newspaper: how many copies, bundled how."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    date = Date()
    copies = Integer()
    bundle_size = Integer(default=50)


class Order(Stamped, Table, tablename="linksaktiv_order"):
    """Copies of an edition ordered by an activist, picked up at an office or shipped.

    ``status``: requested → approved → packed/shipped → delivered → distributed
    (or cancelled). ``pickup_org`` is the unit whose office hands the copies out.
    """

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    edition = ForeignKey(Edition, on_delete=OnDelete.cascade, db_column_name="edition_id")
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    quantity = Integer()
    delivery = Varchar(length=10)
    pickup_org = ForeignKey(
        OrgUnit, null=True, on_delete=OnDelete.set_null, db_column_name="pickup_org_id"
    )
    status = Varchar(length=20, default="requested")
    distributed = Integer(null=True, default=None)
    distributed_postal_code = Varchar(length=20, null=True, default=None)


class Referral(Stamped, Table, tablename="linksaktiv_referral"):
    """A volunteer handed to the campaign leadership of a unit.

    ``status``: new, accepted, contacted, active, declined. ``org`` is the unit whose holders
    of ``linksaktiv.referrals`` were notified (the home unit, or the next one up with someone;
    a unit up the tree when passed on or escalated), since ``routed_at``.
    """

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    status = Varchar(length=20, default="new")
    reminded_at = Timestamptz(null=True, default=None)
    routed_at = Timestamptz(null=True, default=None)


class ReferralStep(Table, tablename="linksaktiv_referral_step"):
    """What a unit's leadership (or the escalation job, ``user`` empty) did with a referral.

    ``action``: accepted, passed (up to ``to_org``), declined, escalated (to ``to_org``, when
    nobody answered in time). ``org`` is the unit the referral was at.
    """

    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, db_column_name="referral_id")
    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    to_org = ForeignKey(OrgUnit, null=True, on_delete=OnDelete.set_null, db_column_name="to_org_id")
    action = Varchar(length=20)
    note = Text(default="")
    user_id = Integer(null=True, default=None)  # references orga_user, set null
    created_at = Timestamptz()
