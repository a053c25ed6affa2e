"""Request and response bodies of the mailings module."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from email_validator import EmailNotValidError, validate_email

__all__ = ["MailingIn", "MailingOut"]

Address = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]


class MailingIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new mailing draft."""

    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    sender_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    sender_address: Address
    body: Annotated[str, msgspec.Meta(max_length=200_000)] = ""
    audience: dict[str, Any] = {}
    reply_to: Address | None = None
    cta_url: Annotated[str, msgspec.Meta(pattern=r"^https?://", max_length=1000)] | None = None
    scheduled_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None

    def __post_init__(self) -> None:
        for field in ("sender_address", "reply_to"):
            value = getattr(self, field)
            if value is None:
                continue
            try:
                validate_email(value, check_deliverability=False)
            except EmailNotValidError as exc:
                raise ValueError(f"{field}: {exc}") from exc


class MailingOut(msgspec.Struct):
    """A mailing."""

    id: int
    org_id: int
    subject: str
    sender_name: str
    sender_address: str
    reply_to: str | None
    body: str
    audience: dict[str, Any]
    cta_url: str | None
    scheduled_at: datetime | None
    state: str
    created_at: datetime
