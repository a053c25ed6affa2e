"""The events module on the call screen (hook ``call_card_sections``): the events the person
attended, and the upcoming events of their home unit and of the assignment's unit to sign
them up for on the spot."""

from __future__ import annotations

from typing import Any

from core import CallField, CallForm, CallSection
from core.api import N_, Actor, ancestors_sql, conflict, db, gettext, invalid, record, utcnow
from plugins.events.links import when_text, with_shift
from plugins.events.participation import ACTIVE, add_participant

__all__ = ["SIGNUP_PATH", "sections", "sign_up_from_call"]

SIGNUP_PATH = "call-card/signup"
_UPCOMING = 10
_SHIFTS = 6  # per event: the soonest (an event may have 50)
_ATTENDED = 5
STATUS_TEXT = {
    "signed_up": N_("signed up"),
    "booked": N_("booked"),
    "waiting": N_("on the waiting list"),
}


async def sections(
    person_id: int, org_id: int, org_path: str, assignment_org_id: int, actor: Actor, locale: str
) -> list[CallSection]:
    """The events section of a call card: attended events (``events.view``) and upcoming
    events with a sign-up form each (``events.signup``); none when the actor holds neither."""
    can_view = actor.can("events.view", org_path)
    can_sign_up = actor.can("events.signup", org_path)
    if not (can_view or can_sign_up):
        return []
    attended = await db.fetch(
        "SELECT e.title, e.start_at, e.end_at, e.timezone FROM events_participation pa "
        "JOIN events_event e ON e.id = pa.event_id WHERE pa.person_id = {} "
        "AND pa.attendance = 'attended' ORDER BY e.start_at DESC LIMIT {}",
        person_id,
        _ATTENDED,
    )
    lines = [
        gettext("Attended: %(title)s, %(when)s", locale)
        % {
            "title": r["title"],
            "when": when_text(r["start_at"], r["end_at"], r["timezone"], locale),
        }
        for r in attended
    ]
    forms: list[CallForm] = []
    if can_sign_up:
        action = f"/app/orgs/{org_id}/events/{SIGNUP_PATH}"
        events = await _upcoming(assignment_org_id, person_id)
        shifts = await _upcoming_shifts([event["id"] for event in events])
        held = await _statuses(person_id, [event["id"] for event in events])
        for event in events:
            # an event with shifts is signed up for shift by shift, as on its public page
            for place in shifts.get(event["id"]) or [None]:
                shown = with_shift(event, place) if place else event
                when = when_text(shown["start_at"], shown["end_at"], event["timezone"], locale)
                text = f"{shown['title']} ({event['unit']}), {when}"
                status = held.get((event["id"], place["id"] if place else None))
                if status in STATUS_TEXT:
                    lines.append(f"{text}: {gettext(STATUS_TEXT[status], locale)}")
                    continue
                fields = [CallField(name="event_id", kind="hidden", value=str(event["id"]))]
                if place:
                    fields.append(CallField(name="shift_id", kind="hidden", value=str(place["id"])))
                submit = N_("Sign up for this shift") if place else N_("Sign up for this event")
                forms.append(
                    CallForm(
                        action=action, text=text, submit=gettext(submit, locale), fields=fields
                    )
                )
    if not lines and not forms:
        return []
    return [CallSection(title=gettext("Events", locale), lines=lines, forms=forms, order=20)]


async def _upcoming(assignment_org_id: int, person_id: int) -> list[dict[str, Any]]:
    """Published events not yet begun of the person's home unit and of the assignment's unit,
    soonest first."""
    return await db.fetch(
        "SELECT e.id, e.title, e.start_at, e.end_at, e.timezone, o.name AS unit "
        "FROM events_event e JOIN org_unit o ON o.id = e.org_id "
        "WHERE e.state = 'published' AND e.start_at > {} AND (e.org_id = {} OR e.org_id = "
        "(SELECT home_org_id FROM person WHERE id = {})) ORDER BY e.start_at, e.id LIMIT {}",
        utcnow(),
        assignment_org_id,
        person_id,
        _UPCOMING,
    )


async def _upcoming_shifts(event_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The shifts of ``event_ids`` by event, soonest first, at most :data:`_SHIFTS` each."""
    if not event_ids:
        return {}
    marks = ", ".join(["{}"] * len(event_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for row in await db.fetch(
        "SELECT id, event_id, title, start_at, end_at FROM events_shift "
        f"WHERE event_id IN ({marks}) ORDER BY start_at, id",
        *event_ids,
    ):
        shifts = found.setdefault(row["event_id"], [])
        if len(shifts) < _SHIFTS:
            shifts.append(row)
    return found


async def _statuses(person_id: int, event_ids: list[int]) -> dict[tuple[int, int | None], str]:
    """The person's participation status per ``(event_id, shift_id)`` of ``event_ids``."""
    if not event_ids:
        return {}
    marks = ", ".join(["{}"] * len(event_ids))
    rows = await db.fetch(
        "SELECT event_id, shift_id, status FROM events_participation "
        f"WHERE person_id = {{}} AND event_id IN ({marks})",
        person_id,
        *event_ids,
    )
    return {(row["event_id"], row["shift_id"]): row["status"] for row in rows}


async def sign_up_from_call(
    org_id: int, person_id: int, event_id: int, shift_id: int | None = None
) -> dict[str, Any]:
    """A caller signs the person they are calling up for an event of the person's home unit
    or of a unit above it (e.g. the campaign's), or for one shift of it, audited as
    ``events.participant_added`` in the caller's unit ``org_id``; a full event or shift puts
    them on the waiting list.

    Raises:
        Problem: 422 on ``event_id`` for an event outside those units, on ``shift_id`` for a
            shift of another event; 409 when it takes no sign-ups (not published, over, a
            full shift without waiting list).
    """
    home = await db.fetch_one(
        "SELECT o.path FROM person p JOIN org_unit o ON o.id = p.home_org_id WHERE p.id = {}",
        person_id,
    )
    if home is None:
        raise invalid("person_id", "no such person")
    above, args = ancestors_sql("o.path", home["path"])
    event = await db.fetch_one(
        "SELECT e.id FROM events_event e JOIN org_unit o ON o.id = e.org_id "
        f"WHERE e.id = {{}} AND {above}",
        event_id,
        *args,
    )
    if event is None:
        raise invalid("event_id", "not an event of the person's units")
    if shift_id is not None and not await db.fetch_one(
        "SELECT id FROM events_shift WHERE id = {} AND event_id = {}", shift_id, event_id
    ):
        raise invalid("shift_id", "not a shift of this event")
    row, _changed = await add_participant(
        event_id, person_id, "signed_up", "call", shift_id=shift_id
    )
    if row["status"] not in (*ACTIVE, "waiting"):
        raise conflict("The sign-up did not go through.", field="event_id")
    await record(
        "events.participant_added",
        org_id=org_id,
        object_type="participation",
        object_id=row["id"],
        detail={"source": "call"},
    )
    return row
