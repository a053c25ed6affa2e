"""Request and response bodies of an event's shifts (``/api/orgs/{org_id}/events/{id}/shifts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from core.api import AwareDatetime

__all__ = ["ShiftCounts", "ShiftIn", "ShiftOut", "ShiftPatch", "ShiftSignupIn"]

ShiftTitle = Annotated[str, msgspec.Meta(max_length=200)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
ShiftIds = Annotated[list[int], msgspec.Meta(min_length=1, max_length=50)]


class ShiftIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new shift of an event: within the event's time; ``capacity`` ``null`` is unlimited;
    ``waiting_list``: whether a sign-up for the full shift waits (else it is refused)."""

    start_at: AwareDatetime
    end_at: AwareDatetime
    title: ShiftTitle = ""
    capacity: Capacity | None = None
    waiting_list: bool = True


class ShiftPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a shift; fields left out stay as they are."""

    start_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    end_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    title: ShiftTitle | msgspec.UnsetType = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType | None = msgspec.UNSET
    waiting_list: bool | msgspec.UnsetType = msgspec.UNSET


class ShiftCounts(msgspec.Struct):
    """How many people a shift has: signed up, booked, waiting, attended, free places."""

    signed_up: int
    booked: int
    waiting: int
    attended: int
    free: int | None


class ShiftOut(msgspec.Struct):
    """A shift with its counts."""

    id: int
    event_id: int
    title: str
    start_at: datetime
    end_at: datetime
    capacity: int | None
    waiting_list: bool
    counts: ShiftCounts


class ShiftSignupIn(msgspec.Struct, forbid_unknown_fields=True):
    """Sign a person up for (or book them into) one or more shifts of an event: one
    participation per shift, all or none."""

    person_id: int
    shift_ids: ShiftIds
    status: Literal["signed_up", "booked"] = "signed_up"
    source: Literal["organizer", "call"] = "organizer"
