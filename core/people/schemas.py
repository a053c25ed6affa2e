"""Request and response bodies of people, consent and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "CHANNELS",
    "MEMBER_STATUSES",
    "PERSON_FIELDS",
    "SOURCES",
    "ConsentIn",
    "ConsentOut",
    "CustomFieldIn",
    "CustomFieldOut",
    "PersonDetail",
    "PersonIn",
    "PersonOut",
    "PersonPatch",
]

MEMBER_STATUSES = ("member", "former_member", "sympathizer", "contact")
SOURCES = ("info_stand", "door_to_door", "event", "social_media", "web_form", "import", "call")
CHANNELS = ("email", "phone", "sms", "post")
# The person's own scalar fields, in one place for services, merge and export.
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "street",
    "postal_code",
    "city",
    "country",
    "language",
    "member_status",
    "membership_number",
    "source",
    "notes",
)

Short = Annotated[str, msgspec.Meta(max_length=200)]
MemberStatus = Literal["member", "former_member", "sympathizer", "contact"]
Source = Literal[
    "info_stand", "door_to_door", "event", "social_media", "web_form", "import", "call"
]
Channel = Literal["email", "phone", "sms", "post"]
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=40)]


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A consent decision: granted or withdrawn, for a channel and purpose, and how it came."""

    channel: Channel
    status: Literal["granted", "withdrawn"]
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] = "general"
    wording: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ConsentOut(msgspec.Struct):
    """The current consent for a channel and purpose (the latest event)."""

    channel: str
    purpose: str
    status: str
    source: str
    at: datetime


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new person. ``home_org_id`` defaults to the unit in the URL."""

    first_name: Short = ""
    last_name: Short = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phones: Annotated[list[Phone], msgspec.Meta(max_length=10)] = []
    street: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    city: Short | None = None
    country: Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")] | None = None
    language: Annotated[str, msgspec.Meta(pattern="^[a-z]{2}(-[A-Z]{2})?$")] | None = None
    member_status: MemberStatus = "contact"
    membership_number: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    home_org_id: int | None = None
    source: Source | None = None
    tags: Annotated[list[TagName], msgspec.Meta(max_length=100)] = []
    do_not_contact: bool = False
    consents: Annotated[list[ConsentIn], msgspec.Meta(max_length=20)] = []
    custom_fields: dict[str, Any] = {}
    notes: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None


class PersonPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Change some fields; ``tags`` and ``phones`` replace the whole list; consents append."""

    first_name: Short | msgspec.UnsetType = msgspec.UNSET
    last_name: Short | msgspec.UnsetType = msgspec.UNSET
    email: Annotated[str, msgspec.Meta(max_length=320)] | msgspec.UnsetType | None = msgspec.UNSET
    phones: Annotated[list[Phone], msgspec.Meta(max_length=10)] | msgspec.UnsetType = msgspec.UNSET
    street: Annotated[str, msgspec.Meta(max_length=300)] | msgspec.UnsetType | None = msgspec.UNSET
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    city: Short | msgspec.UnsetType | None = msgspec.UNSET
    country: Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    language: (
        Annotated[str, msgspec.Meta(pattern="^[a-z]{2}(-[A-Z]{2})?$")] | msgspec.UnsetType | None
    ) = msgspec.UNSET
    member_status: MemberStatus | msgspec.UnsetType = msgspec.UNSET
    membership_number: Annotated[str, msgspec.Meta(max_length=50)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    home_org_id: int | msgspec.UnsetType = msgspec.UNSET
    source: Source | msgspec.UnsetType | None = msgspec.UNSET
    tags: Annotated[list[TagName], msgspec.Meta(max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    do_not_contact: bool | msgspec.UnsetType = msgspec.UNSET
    consents: Annotated[list[ConsentIn], msgspec.Meta(max_length=20)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    custom_fields: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    notes: Annotated[str, msgspec.Meta(max_length=20000)] | msgspec.UnsetType | None = msgspec.UNSET
    pending: Literal[False] | msgspec.UnsetType = msgspec.UNSET
    """``false``: an organizer confirmed a public sign-up themselves (e.g. on the phone)."""


class PersonOut(msgspec.Struct):
    """A person as the API shows it."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phones: list[str]
    street: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    language: str | None
    member_status: str
    membership_number: str | None
    home_org_id: int
    source: str | None
    tags: list[str]
    do_not_contact: bool
    consents: list[ConsentOut]
    custom_fields: dict[str, Any]
    notes: str | None
    created_at: datetime
    updated_at: datetime
    pending: bool = False
    """Came through a public form and not confirmed by its owner yet (see the duplicates)."""


class PersonDetail(PersonOut):
    """A person with the sections modules add through ``person_summary``."""

    summaries: dict[str, Any] = {}


class CustomFieldIn(msgspec.Struct, forbid_unknown_fields=True):
    """A custom person field for this unit and its subtree."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: Literal["text", "number", "date", "choice", "boolean"]
    choices: list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]] | None = None


class CustomFieldOut(msgspec.Struct):
    """A custom field definition."""

    id: int
    org_id: int
    key: str
    label: str
    kind: str
    choices: list[str] | None
