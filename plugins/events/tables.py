"""Tables of the events module."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import OrgUnit, Person, Stamped, Versioned

__all__ = ["Event", "Participation", "Shift"]


class Event(Stamped, Versioned, Table, tablename="events_event"):
    """An event or action of a unit; ``state`` is draft, published or cancelled.

    ``change_seq`` counts changes of time or place (each one notifies participants once);
    ``series_id`` is the id of the first event of a weekly series.
    """

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    description = Text(default="")
    type = Varchar(length=50)
    start_at = Timestamptz()
    end_at = Timestamptz()
    timezone = Varchar(length=64, default="Europe/Berlin")
    location = JSON(null=True, default=None)
    campaign = Varchar(length=200, null=True, default=None)
    contact_person = ForeignKey(
        Person, null=True, on_delete=OnDelete.set_null, db_column_name="contact_person_id"
    )
    participants_needed = Integer(null=True, default=None)
    capacity = Integer(null=True, default=None)
    visibility = Varchar(length=10, default="public")
    state = Varchar(length=10, default="draft")
    reminder_hours = Integer(default=24)
    change_seq = Integer(default=0)
    series_id = Integer(null=True, default=None)


class Shift(Stamped, Table, tablename="events_shift"):
    """A time slot of an event (an info stand from 10 to 12) with its own capacity (``None``:
    unlimited) and sign-ups; ``waiting_list``: a sign-up for the full shift waits (else it
    is refused). ``change_seq`` counts moves of the shift (its calendar entry's SEQUENCE)."""

    event = ForeignKey(Event, on_delete=OnDelete.cascade, db_column_name="event_id")
    title = Varchar(length=200, default="")
    start_at = Timestamptz()
    end_at = Timestamptz()
    capacity = Integer(null=True, default=None)
    waiting_list = Boolean(default=True)
    change_seq = Integer(default=0)


class Participation(Stamped, Table, tablename="events_participation"):
    """A person's place at an event, or at one shift of it (``shift``; one row per shift, so a
    person holding two shifts of an event has two rows).

    ``status``: signed_up (the person says they come), booked (confirmed by an organizer),
    waiting (the event was full), cancelled. ``attendance``: attended, no_show or NULL.
    ``confirmed_at`` is set when a public sign-up was confirmed through the mailed link.
    """

    event = ForeignKey(Event, on_delete=OnDelete.cascade, db_column_name="event_id")
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    status = Varchar(length=10, default="signed_up")
    attendance = Varchar(length=10, null=True, default=None)
    source = Varchar(length=20, default="organizer")
    confirmed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    shift = ForeignKey(Shift, null=True, on_delete=OnDelete.cascade, db_column_name="shift_id")
