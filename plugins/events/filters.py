"""Segment filters: people by their part in events (signed up, booked, attended, no-show), and
the most active (attended at least N events in a period)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from core.api import N_, ActivityFilter, FilterContext, SegmentFilter

__all__ = ["EventActivityFilter", "EventParticipationFilter"]

_STATUS_SQL = {
    "signed_up": "pa.status IN ('signed_up', 'booked')",
    "booked": "pa.status = 'booked'",
    "waiting": "pa.status = 'waiting'",
    "cancelled": "pa.status = 'cancelled'",
    "attended": "pa.attendance = 'attended'",
    "no_show": "pa.attendance = 'no_show'",
}


class EventParticipationFilter(SegmentFilter, tag="event_participation"):
    """People with a participation of ``status`` in matching events.

    Narrow the events by ``event_id``, ``event_type``, ``campaign`` and a start time range
    (``start_from`` inclusive, ``start_to`` exclusive); all given criteria apply together.
    ``signed_up`` includes booked people (everyone who said they come).
    """

    label = N_("Event participation")
    field_labels: ClassVar[dict[str, str]] = {
        "status": N_("Status"),
        "event_id": N_("Event (id)"),
        "event_type": N_("Event type"),
        "campaign": N_("Campaign"),
        "start_from": N_("Events starting from (date)"),
        "start_to": N_("Events starting before (date)"),
    }
    option_labels: ClassVar[dict[str, str]] = {
        "signed_up": N_("signed up"),
        "booked": N_("booked"),
        "waiting": N_("on the waiting list"),
        "cancelled": N_("cancelled"),
        "attended": N_("attended"),
        "no_show": N_("did not come"),
    }

    status: Literal["signed_up", "booked", "waiting", "cancelled", "attended", "no_show"]
    event_id: int | None = None
    event_type: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] | None = None
    campaign: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    start_from: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    start_to: Annotated[datetime, msgspec.Meta(tz=True)] | None = None

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """``p.id IN`` the participations matching the status and the event criteria."""
        conditions = [_STATUS_SQL[self.status]]
        args: list[Any] = []
        if self.event_id is not None:
            conditions.append("pa.event_id = {}")
            args.append(self.event_id)
        event_conditions = []
        for column, op, value in (
            ("e.type", "=", self.event_type),
            ("e.campaign", "=", self.campaign),
            ("e.start_at", ">=", self.start_from),
            ("e.start_at", "<", self.start_to),
        ):
            if value is not None:
                event_conditions.append(f"{column} {op} {{}}")
                args.append(value)
        join = ""
        if event_conditions:
            join = " JOIN events_event e ON e.id = pa.event_id"
            conditions += event_conditions
        return (
            f"p.id IN (SELECT pa.person_id FROM events_participation pa{join} "
            f"WHERE {' AND '.join(conditions)})",
            args,
        )


class EventActivityFilter(ActivityFilter, tag="event_activity"):
    """ "Most active": people who attended at least ``at_least`` events that started in the
    period (``days``, or ``after``/``before``)."""

    label = N_("Most active at events")

    def activities(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Attended events, at the event's start (two shifts of one event count once)."""
        return (
            "SELECT pa.person_id AS person_id, MIN(e.start_at) AS at FROM events_participation pa "
            "JOIN events_event e ON e.id = pa.event_id WHERE pa.attendance = 'attended' "
            "GROUP BY pa.person_id, e.id",
            [],
        )
