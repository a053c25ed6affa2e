"""Request and response bodies of the linksaktiv module."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from core.api import AwareDatetime

__all__ = [
    "ActivistOut",
    "CallToActionIn",
    "CallToActionOut",
    "EditionIn",
    "EditionOut",
    "OrderIn",
    "OrderOut",
    "OrderPatch",
    "ReferralAnswer",
    "ReferralOut",
    "ReferralPatch",
    "TopicIn",
    "TopicOut",
    "TopicPatch",
]

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class EditionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A newspaper edition."""

    title: Title
    date: date
    copies: Annotated[int, msgspec.Meta(ge=1)]
    bundle_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 50


class EditionOut(msgspec.Struct):
    """A newspaper edition of a unit."""

    id: int
    org_id: int
    title: str
    date: date
    copies: int
    bundle_size: int


class TopicIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new topic."""

    slug: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,50}$")]
    title: Title


class TopicPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Rename a topic or take it off the forms (``active: false``)."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class TopicOut(msgspec.Struct):
    """A topic."""

    id: int
    slug: str
    title: str
    active: bool


class CallToActionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A call to action for the activists of this unit's region interested in ``topics``;
    ``regions`` (unit ids of this unit's subtree) narrow the region (none: all of it)."""

    title: Title
    kind: Literal["offline", "visit_link", "share_link", "event"]
    starts_at: AwareDatetime
    text: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    link: Annotated[str, msgspec.Meta(max_length=1000, pattern=r"^https?://")] | None = None
    event_id: int | None = None
    topics: Annotated[list[str], msgspec.Meta(max_length=50)] = []
    deadline: AwareDatetime | None = None
    regions: Annotated[list[int], msgspec.Meta(max_length=200)] = []


class CallToActionOut(msgspec.Struct):
    """A call to action and how many did it."""

    id: int
    org_id: int
    title: str
    text: str
    kind: str
    link: str | None
    event_id: int | None
    topics: list[str]
    starts_at: datetime
    deadline: datetime | None
    done: int
    regions: list[int] = []
    published_at: datetime | None = None


class CallReachOut(msgspec.Struct):
    """How many activists a call reaches now: confirmed, in its region, with one of its
    topics, an address, e-mail consent and not off the digest (the digest's audience)."""

    call_id: int
    reach: int


class CallResultOut(msgspec.Struct):
    """ "I did it" of one unit below the call's unit (its whole subtree counted in it), or of
    the call's unit itself (``own``)."""

    org_id: int
    label: str
    done: int
    own: bool


class ActivistOut(msgspec.Struct):
    """An activist of the region."""

    person_id: int
    first_name: str
    last_name: str
    postal_code: str | None
    home_org_id: int
    status: str
    source: str
    help: list[str]
    topics: list[str]
    created_at: datetime
    last_active_at: datetime | None = None


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    """An order of copies for an activist; the system decides the delivery."""

    person_id: int
    edition_id: int
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class OrderPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Move an order on; ``distributed`` and ``postal_code`` report the distribution."""

    status: Literal["approved", "packed", "shipped", "delivered", "distributed", "cancelled"]
    distributed: Annotated[int, msgspec.Meta(ge=0)] | None = None
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class OrderOut(msgspec.Struct):
    """An order."""

    id: int
    org_id: int
    edition_id: int
    person_id: int
    quantity: int
    bundles: int
    delivery: str
    pickup_org_id: int | None
    status: str
    distributed: int | None
    distributed_postal_code: str | None


class PickupOrder(msgspec.Struct):
    """A pickup order of an edition, with the office where it is picked up."""

    order_id: int
    person_id: int
    first_name: str
    last_name: str
    copies: int
    status: str
    office_org_id: int
    office: str
    address: str | None
    opening_hours: str | None


class ReferralOut(msgspec.Struct):
    """A volunteer referred to this unit."""

    id: int
    org_id: int
    person_id: int
    first_name: str
    last_name: str
    email: str | None
    status: str
    created_at: datetime
    reminded_at: datetime | None
    routed_at: datetime | None = None


class ReferralPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Record what came of a referral."""

    status: Literal["new", "accepted", "contacted", "active", "declined"]


class ReferralAnswer(msgspec.Struct, forbid_unknown_fields=True):
    """The leadership's answer to a waiting referral: take it on, pass it up the tree (to the
    next unit whose members receive referrals) or decline it, with a note."""

    action: Literal["accept", "pass", "decline"]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
