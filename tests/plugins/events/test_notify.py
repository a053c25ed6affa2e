"""Reminders and notices through core jobs and real SMTP: each mail once, even after a crash."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import db
from core.jobs.worker import Worker
from core.tables import utcnow
from tests.plugins.events.conftest import create


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "mail_from": "KV Leipzig <kv@example.org>"}


async def drain(app) -> int:
    return await Worker(app.state.orga.job_handlers(), concurrency=2).drain()


async def _book(client, setup, event_id, person_id):
    response = await client.post(
        f"{setup.base}/{event_id}/participants",
        json={"person_id": person_id, "status": "booked"},
        headers=setup.organizer.headers,
    )
    assert response.status_code == 201, response.text


async def _people(factory, setup):
    org = setup.org["id"]
    return [
        await factory.person(org, first_name="Rosa", email="rosa@example.org"),
        await factory.person(org, first_name="Karl", email="karl@example.org"),
        await factory.person(org, first_name="Ohne"),  # no address: nothing to send
        await factory.person(org, first_name="Nein", email="nein@example.org", do_not_contact=True),
    ]


def _to(smtp_sink, subject_start: str) -> list[str]:
    return sorted(
        m["To"].addresses[0].addr_spec
        for m in smtp_sink.messages
        if m["Subject"].startswith(subject_start)
    )


async def test_reminder_run_twice_sends_one_mail_per_participant(
    client, setup, factory, app, smtp_sink
):
    start = utcnow().replace(microsecond=0) + timedelta(hours=5)  # inside the 24 h lead
    event = await create(
        client, setup, start_at=start.isoformat(), end_at=(start + timedelta(hours=2)).isoformat()
    )
    people = await _people(factory, setup)
    for person in people:
        await _book(client, setup, event["id"], person["id"])
    signed_only = await factory.person(setup.org["id"], email="maybe@example.org")
    await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": signed_only["id"]},
        headers=setup.organizer.headers,
    )
    await drain(app)
    assert _to(smtp_sink, "Erinnerung") == ["karl@example.org", "rosa@example.org"]
    [mail] = [m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == "rosa@example.org"]
    body = mail.get_body(("plain",)).get_content()
    assert "Flyer verteilen" in body and "Markt 1, 04109 Leipzig" in body
    assert f"/p/events/{setup.org['id']}/{event['id']}/cancel/" in body
    # a crash after sending but before the job was marked done: the job runs again
    await db.execute(
        "UPDATE job SET status = 'queued', run_at = {} WHERE kind = 'events.remind'", utcnow()
    )
    await drain(app)
    assert _to(smtp_sink, "Erinnerung") == ["karl@example.org", "rosa@example.org"]


async def test_reminder_waits_for_its_time(client, setup, factory, app, smtp_sink):
    event = await create(client, setup, reminder_hours=24)  # starts in two days
    [rosa, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    await drain(app)
    assert smtp_sink.messages == []
    job = await db.fetch_one("SELECT run_at FROM job WHERE kind = 'events.remind'")
    expected = utcnow() + timedelta(days=1)
    run_at = job["run_at"]
    if isinstance(run_at, str):
        from datetime import datetime

        run_at = datetime.fromisoformat(run_at)
    assert abs((run_at - expected).total_seconds()) < 120


async def test_moving_an_event_notifies_once_and_reschedules_the_reminder(
    client, setup, factory, app, smtp_sink
):
    event = await create(client, setup)
    [rosa, karl, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": karl["id"]},
        headers=setup.organizer.headers,
    )
    url = f"{setup.base}/{event['id']}"
    await client.patch(url, json={"title": "Neuer Titel"}, headers=setup.organizer.headers)
    await drain(app)
    assert smtp_sink.messages == []  # a new title is no reason to write
    new_start = utcnow().replace(microsecond=0) + timedelta(hours=6)
    moved = await client.patch(
        url,
        json={
            "start_at": new_start.isoformat(),
            "end_at": (new_start + timedelta(hours=1)).isoformat(),
        },
        headers=setup.organizer.headers,
    )
    assert moved.status_code == 200
    await drain(app)
    assert _to(smtp_sink, "Geändert") == ["karl@example.org", "rosa@example.org"]
    # the reminder for the new time is due at once (6 h < 24 h) and goes to the booked only
    assert _to(smtp_sink, "Erinnerung") == ["rosa@example.org"]
    await db.execute(
        "UPDATE job SET status = 'queued', run_at = {} WHERE kind LIKE 'events.%'", utcnow()
    )
    await drain(app)
    assert len(smtp_sink.messages) == 3


async def test_cancelling_notifies_everyone_once(client, setup, factory, app, smtp_sink):
    event = await create(client, setup, capacity=1)
    [rosa, karl, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    waiting = await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": karl["id"]},
        headers=setup.organizer.headers,
    )
    assert waiting.json()["status"] == "waiting"
    url = f"{setup.base}/{event['id']}"
    await client.patch(url, json={"state": "cancelled"}, headers=setup.organizer.headers)
    await client.patch(url, json={"state": "cancelled"}, headers=setup.organizer.headers)
    await drain(app)
    assert _to(smtp_sink, "Abgesagt") == ["karl@example.org", "rosa@example.org"]


async def test_booked_after_the_reminder_went_out_still_gets_one(
    client, setup, factory, app, smtp_sink
):
    start = utcnow().replace(microsecond=0) + timedelta(hours=3)
    event = await create(
        client, setup, start_at=start.isoformat(), end_at=(start + timedelta(hours=2)).isoformat()
    )
    [rosa, karl, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    await drain(app)
    assert _to(smtp_sink, "Erinnerung") == ["rosa@example.org"]
    signed = await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": karl["id"]},
        headers=setup.organizer.headers,
    )
    await drain(app)
    assert _to(smtp_sink, "Erinnerung") == ["rosa@example.org"]  # signed up, not booked
    await client.patch(
        f"{setup.base}/{event['id']}/participants/{signed.json()['id']}",
        json={"status": "booked"},
        headers=setup.organizer.headers,
    )
    await db.execute(
        "UPDATE job SET status = 'queued', run_at = {} WHERE kind = 'events.remind'", utcnow()
    )
    await drain(app)
    assert _to(smtp_sink, "Erinnerung") == ["karl@example.org", "rosa@example.org"]


async def test_switching_the_reminder_off_makes_the_queued_one_stale(
    client, setup, factory, app, smtp_sink
):
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    event = await create(
        client, setup, start_at=start.isoformat(), end_at=(start + timedelta(hours=2)).isoformat()
    )
    [rosa, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    changed = await client.patch(
        f"{setup.base}/{event['id']}", json={"reminder_hours": 0}, headers=setup.organizer.headers
    )
    assert changed.json()["reminder_hours"] == 0
    await db.execute("UPDATE job SET run_at = {} WHERE kind = 'events.remind'", utcnow())
    await drain(app)
    assert smtp_sink.messages == []


async def test_booked_after_the_start_still_gets_the_reminder(
    client, setup, factory, app, smtp_sink
):
    """Zetkin #2433: someone who joins an info stand that is already running needs the
    details too; the reminder reaches people booked until the event ends."""
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)  # started an hour ago
    event = await create(
        client, setup, start_at=start.isoformat(), end_at=(start + timedelta(hours=4)).isoformat()
    )
    [rosa, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    await drain(app)
    assert _to(smtp_sink, "Erinnerung") == ["rosa@example.org"]


async def test_the_reminder_mail_carries_the_event_description(
    client, setup, factory, app, smtp_sink
):
    """Zetkin #3268: the reminder tells what the event is about, not only when and where."""
    start = utcnow().replace(microsecond=0) + timedelta(hours=5)
    event = await create(
        client,
        setup,
        start_at=start.isoformat(),
        end_at=(start + timedelta(hours=2)).isoformat(),
        description="Bring **flyers** and a folding table.",
    )
    [rosa, *_] = await _people(factory, setup)
    await _book(client, setup, event["id"], rosa["id"])
    await drain(app)
    [mail] = [m for m in smtp_sink.messages if m["Subject"].startswith("Erinnerung")]
    assert "Bring **flyers** and a folding table." in mail.get_body(("plain",)).get_content()
