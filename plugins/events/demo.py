"""Demo content of the events module: upcoming public events in several districts, with
sign-ups from the district's people."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.api import Demo, db
from plugins.events.participation import add_participant
from plugins.events.schemas import EventIn, Location
from plugins.events.services import create_event

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
    return [f"events: {len(_EVENTS)} upcoming public events with {signups} sign-ups"]
