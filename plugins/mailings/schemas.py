"""Request and response bodies and the settings of the mailings module."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from email_validator import EmailNotValidError, validate_email

from core.api import AwareDatetime, SegmentDefinition

__all__ = [
    "AudienceOut",
    "MailingIn",
    "MailingOut",
    "MailingPatch",
    "MailingStats",
    "MailingsConfig",
    "PreviewIn",
    "PreviewOut",
    "SendIn",
    "SenderIn",
    "SenderOut",
    "SuppressionOut",
    "TestIn",
    "TimelinePoint",
    "Undelivered",
]

Address = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Body = Annotated[str, msgspec.Meta(max_length=200_000)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://", max_length=1000)]


class MailingsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Deployment settings (``[orga.mailings]`` or ``ORGA_MAILINGS__<KEY>``).

    Attributes:
        confirm_threshold: a send to more recipients than this needs ``confirm_count``.
        tracking: count opens (pixel) and clicks (signed redirect links); off by default.
        unsubscribe_mailto: an address added to ``List-Unsubscribe`` as ``mailto:``.
    """

    confirm_threshold: int = 1000
    tracking: bool = False
    unsubscribe_mailto: str | None = None


def _check_addresses(struct: msgspec.Struct, fields: tuple[str, ...]) -> None:
    for field in fields:
        value = getattr(struct, field, None)
        if not isinstance(value, str):
            continue
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"{field}: {exc}") from exc


class SenderIn(msgspec.Struct, forbid_unknown_fields=True):
    """A unit's sender identity: who the mailings of the unit (and of units below it without
    their own) come from."""

    name: Name
    address: Address
    reply_to: Address | None = None

    def __post_init__(self) -> None:
        _check_addresses(self, ("address", "reply_to"))


class SenderOut(msgspec.Struct):
    """The sender identity in force for a unit; ``org_id`` is the unit that defined it."""

    org_id: int
    name: str
    address: str
    reply_to: str | None


class MailingIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new mailing draft. ``body`` is Markdown with Jinja2 variables (``{{ person.first_name
    }}``); ``audience`` is a segment (``{"filters": [...]}``). Sender fields left out come from
    the unit's sender identity (``PUT …/mailings/sender``)."""

    subject: Subject
    sender_name: Name | None = None
    sender_address: Address | None = None
    body: Body = ""
    audience: SegmentDefinition = {}
    reply_to: Address | None = None
    cta_url: Url | None = None
    cta_label: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    scheduled_at: AwareDatetime | None = None

    def __post_init__(self) -> None:
        _check_addresses(self, ("sender_address", "reply_to"))


class MailingPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a draft; fields left out stay as they are."""

    subject: Subject | msgspec.UnsetType = msgspec.UNSET
    sender_name: Name | msgspec.UnsetType = msgspec.UNSET
    sender_address: Address | msgspec.UnsetType = msgspec.UNSET
    body: Body | msgspec.UnsetType = msgspec.UNSET
    audience: SegmentDefinition | msgspec.UnsetType = msgspec.UNSET
    reply_to: Address | msgspec.UnsetType | None = msgspec.UNSET
    cta_url: Url | msgspec.UnsetType | None = msgspec.UNSET
    cta_label: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    scheduled_at: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET

    def __post_init__(self) -> None:
        _check_addresses(self, ("sender_address", "reply_to"))


class MailingStats(msgspec.Struct):
    """Progress and outcome. ``sent`` = handed to the SMTP server (``delivered`` accepted +
    ``bounced`` refused); ``deferred`` = queued recipients whose last attempt failed (they
    are tried again, then ``failed``); ``opened``/``clicked`` are ``None`` unless tracking is
    on."""

    recipients: int = 0
    queued: int = 0
    deferred: int = 0
    held: int = 0
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    skipped: int = 0
    failed: int = 0
    cancelled: int = 0
    unsubscribed: int = 0
    opened: int | None = None
    clicked: int | None = None


class Undelivered(msgspec.Struct):
    """A recipient not delivered: ``failed`` or ``bounced`` for good, or ``queued`` and
    deferred (``attempts`` so far); ``error`` says why."""

    id: int
    person_id: int | None
    email: str | None
    state: str
    attempts: int
    error: str | None
    updated_at: datetime


class MailingOut(msgspec.Struct):
    """A mailing with its progress."""

    id: int
    org_id: int
    subject: str
    sender_name: str
    sender_address: str
    reply_to: str | None
    body: str
    audience: dict[str, Any]
    cta_url: str | None
    cta_label: str | None
    scheduled_at: datetime | None
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    stats: MailingStats


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    """Whom to render the mailing for."""

    person_id: int


class PreviewOut(msgspec.Struct):
    """The mailing as this person would get it."""

    subject: str
    text: str
    html: str


class TestIn(msgspec.Struct, forbid_unknown_fields=True):
    """Where to send a test, and optionally whose data to fill in."""

    email: Address
    person_id: int | None = None

    def __post_init__(self) -> None:
        _check_addresses(self, ("email",))


class SendIn(msgspec.Struct, forbid_unknown_fields=True):
    """``confirm`` must be true; above the threshold ``confirm_count`` must repeat the number
    of people who will receive it (the second confirmation)."""

    confirm: bool = False
    confirm_count: int | None = None


class AudienceOut(msgspec.Struct):
    """Who in the audience gets the mailing and why the others do not (each person counted
    once, in this order of reasons: do-not-contact, no e-mail, bouncing, unsubscribed,
    no consent)."""

    total: int
    will_receive: int
    do_not_contact: int
    no_email: int
    bouncing: int
    unsubscribed: int
    no_consent: int


class TimelinePoint(msgspec.Struct):
    """One hour (or day) of a mailing's send: what happened in it. ``opened``/``clicked`` are
    ``None`` unless tracking is on."""

    at: datetime
    delivered: int
    bounced: int
    unsubscribed: int
    opened: int | None
    clicked: int | None


class SuppressionOut(msgspec.Struct):
    """An address on the suppression list (a server refused it for good) and why."""

    id: int
    email: str
    reason: str
    created_at: datetime
