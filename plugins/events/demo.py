"""Demo content of the events module: upcoming public events in several districts, with
sign-ups from the district's people."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.api import Demo, db
from plugins.events.participation import add_participant, set_attendance
from plugins.events.schemas import EventIn, Location
from plugins.events.services import create_event
from plugins.events.shift_schemas import ShiftIn
from plugins.events.shifts import create_shift

__all__ = ["demo_content"]

_BERLIN = ZoneInfo("Europe/Berlin")
# (district, title, type, place, days ahead, hour, hours long, capacity)
_EVENTS = (
    ("Leipzig", "Infostand auf dem Markt", "info_stand", "Markt, Leipzig", 3, 10, 3, None),
    ("Leipzig", "Mitgliederversammlung", "meeting", "Braustraße 15, Leipzig", 9, 18, 2, 60),
    (
        "Friedrichshain-Kreuzberg",
        "Haustürgespräche zur Miete",
        "canvassing",
        "Treffpunkt U-Bahnhof Frankfurter Tor",
        5,
        16,
        3,
        20,
    ),
    ("Neukölln", "Zeitungen verteilen", "distribution", "Hermannplatz, Berlin", 7, 9, 2, None),
    ("Potsdam", "Telefonaktion", "phone_bank", "Geschäftsstelle Potsdam", 4, 18, 2, 12),
    ("Dresden", "Offenes Treffen", "meeting", "Stadtteilhaus Dresden-Neustadt", 12, 19, 2, None),
)


async def demo_content(demo: Demo) -> list[str]:
    """Six published public events in the next two weeks, each with three to eight of its
    district's people signed up (some booked by an organizer)."""
    today = demo.now.astimezone(_BERLIN).date()
    signups = 0
    for district_name, title, kind, place, days, hour, hours, capacity in _EVENTS:
        district = demo.district(district_name)
        start = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=_BERLIN)
        row = await create_event(
            district["id"],
            district["path"],
            EventIn(
                title=title,
                type=kind,
                start_at=start,
                end_at=start + timedelta(hours=hours),
                description=f"{title} des {district['name']}. Komm vorbei und bring Freunde mit!",
                location=Location(name=place),
                participants_needed=capacity // 2 if capacity else 6,
                capacity=capacity,
                state="published",
            ),
        )
        local = await db.fetch(
            "SELECT id FROM person WHERE home_org_id = {} AND NOT do_not_contact ORDER BY id",
            district["id"],
        )
        chosen = demo.rng.sample(local, min(len(local), demo.rng.randint(3, 8)))
        for person in chosen:
            status = "booked" if demo.rng.random() < 0.3 else "signed_up"
            await add_participant(row["id"], person["id"], status, "organizer")
            signups += 1
    signups += await _running_with_shifts(demo)
    return [
        f"events: {len(_EVENTS)} upcoming public events and one running with shifts, "
        f"{signups} sign-ups"
    ]


async def _running_with_shifts(demo: Demo) -> int:
    """An info stand in Leipzig running now, in three two-hour shifts, with people signed up
    for them and some already checked in (the check-in page has something to show)."""
    district = demo.district("Leipzig")
    now = demo.now.astimezone(_BERLIN)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    event = await create_event(
        district["id"],
        district["path"],
        EventIn(
            title="Infostand am Hauptbahnhof",
            type="info_stand",
            start_at=start,
            end_at=start + timedelta(hours=6),
            description="Flyer verteilen und Unterschriften sammeln, in drei Schichten.",
            location=Location(name="Hauptbahnhof, Leipzig"),
            capacity=None,
            state="published",
        ),
    )
    local = await db.fetch(
        "SELECT id FROM person WHERE home_org_id = {} AND NOT do_not_contact ORDER BY id",
        district["id"],
    )
    people = demo.rng.sample(local, min(len(local), 9))
    taken = 0
    for n, title in enumerate(("Aufbau", "Mittag", "Abbau")):
        begin = start + timedelta(hours=2 * n)
        shift = await create_shift(
            district["id"],
            event,
            ShiftIn(start_at=begin, end_at=begin + timedelta(hours=2), title=title, capacity=4),
        )
        for person in people[3 * n : 3 * n + 3]:
            row, _changed = await add_participant(
                event["id"], person["id"], "booked", "organizer", shift_id=shift["id"]
            )
            if n == 0:
                await set_attendance(row, "attended")
            taken += 1
    return taken
