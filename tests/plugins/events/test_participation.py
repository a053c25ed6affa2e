"""Sign-ups, bookings, the waiting list, cancellation and attendance through the API."""

from __future__ import annotations

from datetime import timedelta

from core import db
from core.audit.services import flush_list_reads
from core.tables import utcnow
from tests.plugins.events.conftest import create


async def _add(client, setup, event_id, person_id, headers=None, **body):
    return await client.post(
        f"{setup.base}/{event_id}/participants",
        json={"person_id": person_id, **body},
        headers=headers or setup.organizer.headers,
    )


async def _counts(client, setup, event_id):
    response = await client.get(f"{setup.base}/{event_id}", headers=setup.organizer.headers)
    return response.json()["counts"]


async def test_sign_up_book_wait_cancel_and_move_up(client, setup, factory):
    event = await create(client, setup, capacity=2, participants_needed=3)
    people = [await factory.person(setup.org["id"], first_name=f"P{i}") for i in range(4)]
    first = await _add(client, setup, event["id"], people[0]["id"], status="booked")
    assert first.status_code == 201 and first.json()["status"] == "booked"
    second = await _add(client, setup, event["id"], people[1]["id"])
    assert second.json()["status"] == "signed_up"
    third = await _add(client, setup, event["id"], people[2]["id"])
    assert third.json()["status"] == "waiting"
    again = await _add(client, setup, event["id"], people[1]["id"])
    assert again.status_code == 200 and again.json()["id"] == second.json()["id"]
    full = await _add(client, setup, event["id"], people[3]["id"], status="booked")
    assert full.status_code == 409
    counts = await _counts(client, setup, event["id"])
    assert (counts["needed"], counts["booked"], counts["signed_up"], counts["waiting"]) == (
        3,
        1,
        1,
        1,
    )
    assert counts["free"] == 0
    cancel = await client.patch(
        f"{setup.base}/{event['id']}/participants/{second.json()['id']}",
        json={"status": "cancelled"},
        headers=setup.organizer.headers,
    )
    assert cancel.json()["status"] == "cancelled"
    listed = await client.get(
        f"{setup.base}/{event['id']}/participants", headers=setup.organizer.headers
    )
    by_person = {p["person_id"]: p["status"] for p in listed.json()["items"]}
    assert by_person[people[2]["id"]] == "signed_up"  # moved up from the waiting list
    booked = await client.patch(
        f"{setup.base}/{event['id']}/participants/{third.json()['id']}",
        json={"status": "booked"},
        headers=setup.organizer.headers,
    )
    assert booked.json()["status"] == "booked"
    counts = await _counts(client, setup, event["id"])
    assert (counts["booked"], counts["signed_up"], counts["waiting"]) == (2, 0, 0)


async def test_caller_signs_up_during_a_call_but_cannot_book(client, setup, factory):
    event = await create(client, setup)
    caller = await factory.user("caller", setup.org["id"])
    person = await factory.person(setup.org["id"])
    booked = await _add(client, setup, event["id"], person["id"], caller.headers, status="booked")
    assert booked.status_code == 422
    signed = await _add(client, setup, event["id"], person["id"], caller.headers, source="call")
    assert signed.status_code == 201
    assert signed.json()["source"] == "call" and signed.json()["status"] == "signed_up"
    viewer = await factory.user("viewer", setup.org["id"])
    other = await factory.person(setup.org["id"])
    denied = await _add(client, setup, event["id"], other["id"], viewer.headers)
    assert denied.status_code == 403


async def test_people_outside_the_unit_and_drafts_are_refused(client, setup, factory):
    event = await create(client, setup)
    elsewhere = await factory.org("KV Chemnitz")
    stranger = await factory.person(elsewhere["id"])
    refused = await _add(client, setup, event["id"], stranger["id"])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "person_id"
    draft = await create(client, setup, state="draft")
    person = await factory.person(setup.org["id"])
    assert (await _add(client, setup, draft["id"], person["id"])).status_code == 409


async def test_attendance_after_the_start(client, setup, factory):
    event = await create(client, setup)
    person = await factory.person(setup.org["id"])
    added = (await _add(client, setup, event["id"], person["id"], status="booked")).json()
    url = f"{setup.base}/{event['id']}/participants/{added['id']}"
    early = await client.patch(
        url, json={"attendance": "attended"}, headers=setup.organizer.headers
    )
    assert early.status_code == 409
    await db.execute(
        "UPDATE events_event SET start_at = {}, end_at = {} WHERE id = {}",
        utcnow() - timedelta(hours=3),
        utcnow() - timedelta(hours=1),
        event["id"],
    )
    done = await client.patch(url, json={"attendance": "no_show"}, headers=setup.organizer.headers)
    assert done.status_code == 200 and done.json()["attendance"] == "no_show"
    counts = await _counts(client, setup, event["id"])
    assert (counts["attended"], counts["no_show"]) == (0, 1)
    cleared = await client.patch(url, json={"attendance": None}, headers=setup.organizer.headers)
    assert cleared.json()["attendance"] is None


async def test_participants_are_paged_and_the_read_is_audited(app, client, setup, factory):
    event = await create(client, setup)
    for i in range(5):
        person = await factory.person(setup.org["id"], first_name=f"P{i}")
        await _add(client, setup, event["id"], person["id"])
    url = f"{setup.base}/{event['id']}/participants"
    first = (await client.get(url, params={"limit": 3}, headers=setup.organizer.headers)).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = await client.get(
        url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=setup.organizer.headers
    )
    assert len(rest.json()["items"]) == 2 and rest.json()["next_cursor"] is None
    await flush_list_reads(app)  # list reads are written together, after the answers
    audit = await db.fetch(
        "SELECT object_id FROM audit_log WHERE action = 'events.participants_read'"
    )
    assert audit and audit[0]["object_id"] == event["id"]


async def test_two_sign_ups_at_once_never_take_the_last_place_twice(client, setup, factory):
    import asyncio

    from plugins.events.participation import add_participant

    event = await create(client, setup, capacity=1)
    people = [await factory.person(setup.org["id"], first_name=f"P{i}") for i in range(6)]
    results = await asyncio.gather(
        *(add_participant(event["id"], p["id"], "signed_up", "organizer") for p in people)
    )
    statuses = sorted(row["status"] for row, _changed in results)
    assert statuses == ["signed_up"] + ["waiting"] * 5
