"""Request and response bodies of the events module."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

import msgspec

from core.api import AwareDatetime

__all__ = [
    "MAX_DURATION",
    "CopyIn",
    "Counts",
    "EventIn",
    "EventOut",
    "EventPatch",
    "Location",
    "ParticipantIn",
    "ParticipantOut",
    "ParticipantPatch",
    "PublicEvent",
    "PublicEvents",
    "SeriesIn",
    "State",
]

# Bounding the length lets "not ended yet" queries start their start_at index scan near now.
MAX_DURATION = timedelta(days=14)
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
TypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Description = Annotated[str, msgspec.Meta(max_length=20_000)]
Campaign = Annotated[str, msgspec.Meta(max_length=200)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Capacity = Annotated[int, msgspec.Meta(ge=1)]
ReminderHours = Annotated[int, msgspec.Meta(ge=0, le=24 * 14)]
Visibility = Literal["public", "members", "internal"]
State = Literal["draft", "published", "cancelled"]


class Location(msgspec.Struct, forbid_unknown_fields=True):
    """Where the event happens."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_times(start_at: datetime, end_at: datetime, timezone: str) -> None:
    """Raise ``ValueError`` for an end before the start, an event longer than
    ``MAX_DURATION`` (longer actions are a series) or an unknown time zone."""
    if end_at <= start_at:
        raise ValueError("end_at must be after start_at")
    if end_at - start_at > MAX_DURATION:
        raise ValueError("an event lasts at most 14 days; make a series for longer actions")
    if timezone not in _zones():
        raise ValueError(f"unknown timezone {timezone!r}")


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new event; ``type`` must be one of the deployment's event types."""

    title: Title
    type: TypeName
    start_at: AwareDatetime
    end_at: AwareDatetime
    description: Description = ""
    timezone: str = "Europe/Berlin"
    location: Location | None = None
    campaign: Campaign | None = None
    contact_person_id: int | None = None
    participants_needed: Count | None = None
    capacity: Capacity | None = None
    visibility: Visibility = "public"
    state: State = "draft"
    reminder_hours: ReminderHours = 24

    def __post_init__(self) -> None:
        check_times(self.start_at, self.end_at, self.timezone)


class EventPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to an event; fields left out stay as they are."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    type: TypeName | msgspec.UnsetType = msgspec.UNSET
    start_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    end_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    location: Location | msgspec.UnsetType | None = msgspec.UNSET
    campaign: Campaign | msgspec.UnsetType | None = msgspec.UNSET
    contact_person_id: int | msgspec.UnsetType | None = msgspec.UNSET
    participants_needed: Count | msgspec.UnsetType | None = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType | None = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET
    state: State | msgspec.UnsetType = msgspec.UNSET
    reminder_hours: ReminderHours | msgspec.UnsetType = msgspec.UNSET


class CopyIn(msgspec.Struct, forbid_unknown_fields=True):
    """Copy an event to a new start (same duration); the copy is a draft without people."""

    start_at: AwareDatetime


class SeriesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Repeat an event weekly ``weeks`` more times at the same local wall-clock time."""

    weeks: Annotated[int, msgspec.Meta(ge=1, le=52)]


class Counts(msgspec.Struct):
    """How many people: needed (the target), booked, signed up, waiting, attended, no-show."""

    needed: int | None
    booked: int
    signed_up: int
    waiting: int
    attended: int
    no_show: int
    free: int | None


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
    contact_person_id: int | None
    participants_needed: int | None
    capacity: int | None
    visibility: str
    state: str
    reminder_hours: int
    series_id: int | None
    ended: bool
    counts: Counts


class ParticipantIn(msgspec.Struct, forbid_unknown_fields=True):
    """Sign a person up (``signed_up``) or book them (``booked``, organizers only).

    ``source`` says who did it: an organizer, a caller during a call, or an import.
    """

    person_id: int
    status: Literal["signed_up", "booked"] = "signed_up"
    source: Literal["organizer", "call"] = "organizer"


class ParticipantPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Book, move back, cancel, or record attendance (``null`` clears it)."""

    status: Literal["signed_up", "booked", "waiting", "cancelled"] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    attendance: Literal["attended", "no_show"] | msgspec.UnsetType | None = msgspec.UNSET


class ParticipantOut(msgspec.Struct):
    """A participation with the person's name."""

    id: int
    event_id: int
    person_id: int
    first_name: str
    last_name: str
    status: str
    attendance: str | None
    source: str
    confirmed: bool
    created_at: datetime
    shift_id: int | None = None


class PublicEvent(msgspec.Struct):
    """A public event as a party website embeds it (``GET /p/events/{org_id}/events.json``)."""

    id: int
    title: str
    type: str
    description: str
    start_at: datetime
    end_at: datetime
    timezone: str
    location: Location | None
    url: str
    ics_url: str


class PublicEvents(msgspec.Struct):
    """The upcoming public events of a unit (or its subtree), soonest first."""

    events: list[PublicEvent]
    generated_at: datetime
