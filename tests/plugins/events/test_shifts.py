"""Shifts through the API: capacity and waiting list per shift, all-or-none sign-ups for
several shifts, per-shift reminders and calendar entries, units and events kept apart."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from core import db
from core.tables import utcnow
from tests.plugins.events.conftest import create
from tests.plugins.events.test_notify import drain


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "mail_from": "KV Leipzig <kv@example.org>"}


def _at(event: dict, hours: float) -> str:
    return (datetime.fromisoformat(event["start_at"]) + timedelta(hours=hours)).isoformat()


async def _shift(client, setup, event, start: float, end: float, **body):
    response = await client.post(
        f"{setup.base}/{event['id']}/shifts",
        json={"start_at": _at(event, start), "end_at": _at(event, end), **body},
        headers=setup.organizer.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _sign_up(client, setup, event, person_id, shift_ids, **body):
    return await client.post(
        f"{setup.base}/{event['id']}/shifts/signups",
        json={"person_id": person_id, "shift_ids": shift_ids, **body},
        headers=setup.organizer.headers,
    )


async def test_shift_capacity_waiting_list_and_full_shift_refused(client, setup, factory):
    event = await create(client, setup)
    closed = await _shift(
        client, setup, event, 0, 1, title="Aufbau", capacity=1, waiting_list=False
    )
    open_ = await _shift(client, setup, event, 1, 2, capacity=1)
    rosa = await factory.person(setup.org["id"], first_name="Rosa")
    karl = await factory.person(setup.org["id"], first_name="Karl")
    first = await _sign_up(client, setup, event, rosa["id"], [closed["id"], open_["id"]])
    assert first.status_code == 201, first.text
    assert [(p["shift_id"], p["status"]) for p in first.json()] == [
        (closed["id"], "signed_up"),
        (open_["id"], "signed_up"),
    ]
    again = await _sign_up(client, setup, event, rosa["id"], [closed["id"]])
    assert again.status_code == 200
    refused = await _sign_up(client, setup, event, karl["id"], [open_["id"], closed["id"]])
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in refused.json()["errors"]] == ["shift_ids"]
    nothing = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM events_participation WHERE person_id = {}", karl["id"]
    )
    assert nothing["n"] == 0  # all or none: not even the waiting list of the open shift
    waiting = await _sign_up(client, setup, event, karl["id"], [open_["id"]])
    assert waiting.json()[0]["status"] == "waiting"
    listed = await client.get(f"{setup.base}/{event['id']}/shifts", headers=setup.organizer.headers)
    counts = {s["id"]: s["counts"] for s in listed.json()}
    assert counts[open_["id"]] == {
        "signed_up": 1,
        "booked": 0,
        "waiting": 1,
        "attended": 0,
        "free": 0,
    }
    rosa_open = first.json()[1]["id"]
    cancel = await client.patch(
        f"{setup.base}/{event['id']}/participants/{rosa_open}",
        json={"status": "cancelled"},
        headers=setup.organizer.headers,
    )
    assert cancel.status_code == 200
    moved = await db.fetch_one(
        "SELECT status FROM events_participation WHERE id = {}", waiting.json()[0]["id"]
    )
    assert moved["status"] == "signed_up"  # up from the shift's own waiting list
    bigger = await client.patch(
        f"{setup.base}/{event['id']}/shifts/{closed['id']}",
        json={"capacity": 2},
        headers=setup.organizer.headers,
    )
    assert bigger.json()["counts"]["free"] == 1
    outside = await client.post(
        f"{setup.base}/{event['id']}/shifts",
        json={"start_at": _at(event, -1), "end_at": _at(event, 1)},
        headers=setup.organizer.headers,
    )
    assert outside.status_code == 422
    assert [e["field"] for e in outside.json()["errors"]] == ["start_at"]
    busy = await client.delete(
        f"{setup.base}/{event['id']}/shifts/{closed['id']}", headers=setup.organizer.headers
    )
    assert busy.status_code == 409


async def test_shifts_of_other_units_and_events_are_404(client, setup, factory):
    event = await create(client, setup)
    other_event = await create(client, setup)
    shift = await _shift(client, setup, event, 0, 1)
    base = f"{setup.base}/{other_event['id']}/shifts"
    headers = setup.organizer.headers
    assert (await client.get(f"{base}/{shift['id']}", headers=headers)).status_code == 404
    assert (await client.delete(f"{base}/{shift['id']}", headers=headers)).status_code == 404
    person = await factory.person(setup.org["id"])
    wrong = await _sign_up(client, setup, other_event, person["id"], [shift["id"]])
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["shift_ids"]
    other = await factory.org("KV Dresden")
    await factory.enable(other["id"], "events")
    stranger = await factory.user("organizer", other["id"])
    foreign = f"/api/orgs/{other['id']}/events/{event['id']}/shifts/{shift['id']}"
    assert (await client.get(foreign, headers=stranger.headers)).status_code == 404
    mine = f"{setup.base}/{event['id']}/shifts/{shift['id']}"
    assert (await client.get(mine, headers=stranger.headers)).status_code == 404


async def test_reminders_go_out_per_shift_at_the_shifts_time(
    client, setup, factory, app, smtp_sink
):
    start = utcnow().replace(microsecond=0) + timedelta(hours=5)  # inside the 24 h lead
    event = await create(
        client, setup, start_at=start.isoformat(), end_at=(start + timedelta(days=3)).isoformat()
    )
    soon = await _shift(client, setup, event, 1, 3, title="Früh")
    later = await _shift(client, setup, event, 48, 50, title="Spät")  # reminder in a day
    rosa = await factory.person(setup.org["id"], first_name="Rosa", email="rosa@example.org")
    karl = await factory.person(setup.org["id"], first_name="Karl", email="karl@example.org")
    booked = await _sign_up(client, setup, event, rosa["id"], [soon["id"]], status="booked")
    assert booked.status_code == 201
    await _sign_up(client, setup, event, karl["id"], [later["id"]], status="booked")
    await drain(app)
    reminders = [m for m in smtp_sink.messages if m["Subject"].startswith("Erinnerung")]
    assert [m["To"].addresses[0].addr_spec for m in reminders] == ["rosa@example.org"]
    body = reminders[0].get_body(("plain",)).get_content()
    assert "Früh" in body
    jobs = await db.fetch(
        "SELECT run_at FROM job WHERE kind = 'events.remind' AND status = 'queued'"
    )
    assert len(jobs) == 1  # Karl's shift: a day before it starts
    due = datetime.fromisoformat(later["start_at"]) - timedelta(hours=24)
    assert abs((jobs[0]["run_at"] - due).total_seconds()) < 2


async def test_public_ics_has_one_entry_per_shift_and_the_chosen_ones(client, setup):
    event = await create(client, setup)
    first = await _shift(client, setup, event, 0, 1, title="Aufbau")
    second = await _shift(client, setup, event, 1, 3)
    path = f"/p/events/{setup.org['id']}/{event['id']}/event.ics"
    whole = Calendar.from_ical((await client.get(path)).content)
    entries = whole.walk("VEVENT")
    assert [str(e["summary"]) for e in entries] == [
        "Infostand Mietendeckel \u2013 Aufbau",
        "Infostand Mietendeckel",
    ]
    assert len({str(e["uid"]) for e in entries}) == 2
    assert entries[1].decoded("dtstart") == datetime.fromisoformat(second["start_at"])
    mine = Calendar.from_ical((await client.get(f"{path}?shift={first['id']}")).content)
    assert [str(e["summary"]) for e in mine.walk("VEVENT")] == [
        "Infostand Mietendeckel \u2013 Aufbau"
    ]
    moved = await client.patch(
        f"{setup.base}/{event['id']}",
        json={"start_at": _at(event, 24), "end_at": _at(event, 27)},
        headers=setup.organizer.headers,
    )
    assert moved.status_code == 200, moved.text
    after = Calendar.from_ical((await client.get(path)).content).walk("VEVENT")
    assert after[0].decoded("dtstart") == datetime.fromisoformat(first["start_at"]) + timedelta(
        hours=24
    )  # the shifts moved with the event
    assert int(after[0]["sequence"]) > int(entries[0]["sequence"])


async def test_visitor_picks_shifts_on_the_public_page(client, setup, app, smtp_sink):
    client.headers["accept-language"] = "en"
    event = await create(client, setup)
    full = await _shift(client, setup, event, 0, 1, title="Aufbau", capacity=1, waiting_list=False)
    first = await _shift(client, setup, event, 1, 2, title="Mittag")
    second = await _shift(client, setup, event, 2, 3, title="Abbau", capacity=1)
    path = f"/p/events/{setup.org['id']}/{event['id']}"
    form = {
        "first_name": "Rosa",
        "last_name": "Luxemburg",
        "email": "rosa@example.org",
        "consent": "yes",
        "website": "",
    }
    none = await client.post(f"{path}/signup", data=form)
    assert none.status_code == 422 and "Please pick at least one shift." in none.text
    done = await client.post(
        f"{path}/signup", data={**form, "shift_ids": [str(first["id"]), str(second["id"])]}
    )
    assert done.status_code == 200, done.text
    assert "Mittag" in done.text and f"event.ics?shift={first['id']}&amp;shift=" in done.text
    rows = await db.fetch(
        "SELECT shift_id, status FROM events_participation WHERE event_id = {} ORDER BY shift_id",
        event["id"],
    )
    assert [(r["shift_id"], r["status"]) for r in rows] == [
        (first["id"], "signed_up"),
        (second["id"], "signed_up"),
    ]
    await db.execute(
        "UPDATE events_participation SET shift_id = {} WHERE shift_id = {}", full["id"], first["id"]
    )  # someone holds the one place of "Aufbau" now
    page = (await client.get(path)).text
    assert re.search(rf'id="shift-{full["id"]}"[^>]*disabled', page)
    assert not re.search(rf'id="shift-{second["id"]}"[^>]*disabled', page)
    assert "full: waiting list" in page
    await drain(app)
    [mail] = smtp_sink.messages
    body = mail.get_body(("plain",)).get_content()
    assert "Mittag" in body and "Abbau" in body and body.count("/cancel/") == 2


async def test_two_shifts_of_one_event_are_one_event_attended_and_exported(client, setup, factory):
    event = await create(client, setup)
    first = await _shift(client, setup, event, 0, 1)
    second = await _shift(client, setup, event, 1, 2)
    rosa = await factory.person(setup.org["id"], first_name="Rosa")
    await _sign_up(client, setup, event, rosa["id"], [first["id"], second["id"]])
    await db.execute("UPDATE events_participation SET attendance = 'attended'")
    preview = await client.post(
        f"/api/orgs/{setup.org['id']}/segments/preview",
        json={"where": {"type": "event_activity", "at_least": 2}},
        headers=setup.organizer.headers,
    )
    assert preview.json()["count"] == 0  # one event, not two
    admin = await factory.user("admin", setup.org["id"])
    export = await client.get(
        f"/api/orgs/{setup.org['id']}/people/{rosa['id']}/export", headers=admin.headers
    )
    shifts = [p["shift_id"] for p in export.json()["modules"]["events"]["participations"]]
    assert shifts == [first["id"], second["id"]]


async def test_an_event_has_at_most_fifty_shifts(client, setup):
    event = await create(client, setup)
    first = await _shift(client, setup, event, 0, 1)
    for _ in range(49):
        await db.execute(
            "INSERT INTO events_shift (event_id, title, start_at, end_at, waiting_list, "
            "change_seq, created_at, updated_at) SELECT event_id, title, start_at, end_at, "
            "waiting_list, change_seq, created_at, updated_at FROM events_shift WHERE id = {}",
            first["id"],
        )
    more = await client.post(
        f"{setup.base}/{event['id']}/shifts",
        json={"start_at": _at(event, 0), "end_at": _at(event, 1)},
        headers=setup.organizer.headers,
    )
    assert more.status_code == 409
    assert [e["field"] for e in more.json()["errors"]] == ["start_at"]


async def test_a_moved_shift_tells_its_people_of_the_new_time(
    client, setup, factory, app, smtp_sink
):
    """A shift of a published event that moves: its people (signed up, booked) get the change
    notice with the shift's new time, once; the other shift's people hear nothing; more
    places alone send nothing. (Moving the whole event already told everyone.)"""
    event = await create(client, setup)
    early = await _shift(client, setup, event, 0, 1, title="Früh")
    late = await _shift(client, setup, event, 1, 2, title="Spät")
    rosa = await factory.person(setup.org["id"], first_name="Rosa", email="rosa@example.org")
    karl = await factory.person(setup.org["id"], first_name="Karl", email="karl@example.org")
    assert (await _sign_up(client, setup, event, rosa["id"], [early["id"]])).status_code == 201
    assert (await _sign_up(client, setup, event, karl["id"], [late["id"]])).status_code == 201
    shift_url = f"{setup.base}/{event['id']}/shifts"
    more = await client.patch(
        f"{shift_url}/{early['id']}", json={"capacity": 40}, headers=setup.organizer.headers
    )
    assert more.status_code == 200, more.text
    moved = await client.patch(
        f"{shift_url}/{early['id']}",
        json={"start_at": _at(event, 0.5), "end_at": _at(event, 1.5)},
        headers=setup.organizer.headers,
    )
    assert moved.status_code == 200, moved.text
    await drain(app)
    await drain(app)  # a job run twice (after a crash) mails nobody twice
    notices = [m for m in smtp_sink.messages if m["Subject"].startswith("Geändert")]
    assert [m["To"].addresses[0].addr_spec for m in notices] == ["rosa@example.org"]
    assert "Früh" in notices[0]["Subject"]
    body = notices[0].get_body(("plain",)).get_content()
    new_start = datetime.fromisoformat(_at(event, 0.5)).astimezone(ZoneInfo("Europe/Berlin"))
    assert new_start.strftime("%H:%M") in body
