"""Request and response bodies of the events module."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

import msgspec

__all__ = ["EVENT_TYPES", "EventIn", "EventOut", "Location"]

EVENT_TYPES = ("info_stand", "canvassing", "distribution", "meeting", "demo", "phone_bank", "other")
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class Location(msgspec.Struct, forbid_unknown_fields=True):
    """Where the event happens."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new event."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    start_at: AwareDatetime
    end_at: AwareDatetime
    description: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    timezone: str = "Europe/Berlin"
    location: Location | None = None
    campaign: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    participants_needed: Annotated[int, msgspec.Meta(ge=0)] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1)] | None = None
    visibility: Literal["public", "members", "internal"] = "public"
    state: Literal["draft", "published", "cancelled"] = "draft"

    def __post_init__(self) -> None:
        if self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        if self.timezone not in _zones():
            raise ValueError(f"unknown timezone {self.timezone!r}")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class EventOut(msgspec.Struct):
    """An event; ``ended`` is derived from ``end_at``."""

    id: int
    org_id: int
    title: str
    type: str
    start_at: datetime
    end_at: datetime
    timezone: str
    description: str
    location: Location | None
    campaign: str | None
    participants_needed: int | None
    capacity: int | None
    visibility: str
    state: str
    ended: bool
