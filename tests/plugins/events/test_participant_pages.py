"""The console's shift, participants and check-in pages over HTTP (issue #26): forms with
errors beside the fields, walk-ins after the event, the waiting list, the contact person's
limited and audited view, check-in taps with and without JavaScript, 404 across units, CSRF."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from core import db
from core.audit.services import flush_list_reads
from core.tables import utcnow
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.events.conftest import create


async def _logged_in(client, setup):
    client.headers["accept-language"] = "en"
    await console_login(client, setup.organizer.email)


def _app(setup, event, page: str) -> str:
    return f"/app/orgs/{setup.org['id']}/events/{event['id']}/{page}"


async def _in_the_past(event_id: int, *, started_hours: float, ends_in_hours: float) -> None:
    """Move an event (and its shifts) so it started ``started_hours`` ago."""
    now = utcnow()
    row = await db.fetch_one("SELECT start_at FROM events_event WHERE id = {}", event_id)
    delta = now - timedelta(hours=started_hours) - row["start_at"]
    await db.execute(
        "UPDATE events_event SET start_at = {}, end_at = {} WHERE id = {}",
        now - timedelta(hours=started_hours),
        now + timedelta(hours=ends_in_hours),
        event_id,
    )
    for shift in await db.fetch("SELECT * FROM events_shift WHERE event_id = {}", event_id):
        await db.execute(
            "UPDATE events_shift SET start_at = {}, end_at = {} WHERE id = {}",
            shift["start_at"] + delta,
            shift["end_at"] + delta,
            shift["id"],
        )


async def test_shift_page_adds_changes_and_removes_shifts(client, setup):
    await _logged_in(client, setup)
    begin = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    event = await create(
        client,
        setup,
        start_at=begin.isoformat(),
        end_at=(begin + timedelta(hours=3)).isoformat(),
    )
    page = await client.get(_app(setup, event, "shifts"))
    assert page.status_code == 200 and "No shifts yet" in page.text
    token = csrf_of(page.text)
    bad = await client.post(
        _app(setup, event, "shifts"),
        data={"_csrf": token, "start_at": "tomorrow", "end_at": "", "title": "Aufbau"},
    )
    assert bad.status_code == 422
    assert "Enter a date and a time." in bad.text and 'value="Aufbau"' in bad.text
    start = await db.fetch_one("SELECT start_at FROM events_event WHERE id = {}", event["id"])
    local = start["start_at"].astimezone(ZoneInfo("Europe/Berlin"))
    outside = await client.post(
        _app(setup, event, "shifts"),
        data={
            "_csrf": token,
            "start_at": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "end_at": local.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert outside.status_code == 422 and "A shift starts within the event" in outside.text
    added = await client.post(
        _app(setup, event, "shifts"),
        data={
            "_csrf": token,
            "start_at": local.strftime("%Y-%m-%dT%H:%M"),
            "end_at": (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "title": "Aufbau",
            "capacity": "3",
            "waiting_list": "yes",
        },
    )
    assert added.status_code == 303
    [shift] = await db.fetch("SELECT * FROM events_shift WHERE event_id = {}", event["id"])
    assert (shift["title"], shift["capacity"], shift["start_at"]) == (
        "Aufbau",
        3,
        start["start_at"],
    )
    edit = await client.get(f"{_app(setup, event, 'shifts')}/{shift['id']}")
    assert edit.status_code == 200 and 'value="3"' in edit.text
    assert "get a mail with the new time" in edit.text  # the event is published
    saved = await client.post(
        f"{_app(setup, event, 'shifts')}/{shift['id']}",
        data={
            "_csrf": token,
            "start_at": local.strftime("%Y-%m-%dT%H:%M"),
            "end_at": (local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "title": "Aufbau",
            "capacity": "",
        },
    )
    assert saved.status_code == 303
    changed = await db.fetch_one("SELECT * FROM events_shift WHERE id = {}", shift["id"])
    assert changed["capacity"] is None and not changed["waiting_list"]
    assert changed["change_seq"] == 1
    no_csrf = await client.post(f"{_app(setup, event, 'shifts')}/{shift['id']}/remove")
    assert no_csrf.status_code == 403
    removed = await client.post(
        f"{_app(setup, event, 'shifts')}/{shift['id']}/remove", data={"_csrf": token}
    )
    assert removed.status_code == 303
    assert await db.fetch("SELECT id FROM events_shift") == []
    audit = await db.fetch("SELECT action FROM audit_log WHERE object_type = 'shift' ORDER BY id")
    assert [a["action"] for a in audit] == [
        "events.shift_created",
        "events.shift_updated",
        "events.shift_deleted",
    ]


async def test_waiting_list_move_up_add_from_people_and_walk_in_after_the_event(
    client, setup, factory
):
    await _logged_in(client, setup)
    event = await create(client, setup, capacity=1)
    rosa = await factory.person(setup.org["id"], first_name="Rosa", last_name="Luxemburg")
    karl = await factory.person(setup.org["id"], first_name="Karl", last_name="Liebknecht")
    clara = await factory.person(setup.org["id"], first_name="Clara", last_name="Zetkin")
    for person in (rosa, karl):
        await client.post(
            f"{setup.base}/{event['id']}/participants",
            json={"person_id": person["id"]},
            headers=setup.organizer.headers,
        )
    page = await client.get(_app(setup, event, "participants"), params={"status": "waiting"})
    assert page.status_code == 200
    assert "Karl Liebknecht" in page.text and "Rosa Luxemburg" not in page.text
    token = csrf_of(page.text)
    [waiting] = await db.fetch("SELECT id FROM events_participation WHERE status = 'waiting'")
    moved = await client.post(
        f"{_app(setup, event, 'participants')}/{waiting['id']}/move-up", data={"_csrf": token}
    )
    assert moved.status_code == 303
    row = await db.fetch_one("SELECT status FROM events_participation WHERE id = {}", waiting["id"])
    assert row["status"] == "signed_up"  # taken in over the capacity by the organizer
    found = await client.get(_app(setup, event, "participants"), params={"q": "clara"})
    assert "Clara Zetkin" in found.text
    await _in_the_past(event["id"], started_hours=5, ends_in_hours=-2)  # over now
    added = await client.post(
        f"{_app(setup, event, 'participants')}/add",
        data={"_csrf": token, "person_id": str(clara["id"]), "status": "attended"},
    )
    assert added.status_code == 303
    empty = await client.post(
        f"{_app(setup, event, 'participants')}/walk-in",
        data={"_csrf": token, "first_name": "", "last_name": "", "email": "kaputt"},
    )
    assert empty.status_code == 422
    assert "Please fill in this field." in empty.text and 'value="kaputt"' in empty.text
    walk_in = await client.post(
        f"{_app(setup, event, 'participants')}/walk-in",
        data={"_csrf": token, "first_name": "August", "last_name": "Bebel", "phone": ""},
    )
    assert walk_in.status_code == 303
    came = await client.get(_app(setup, event, "participants"), params={"status": "attended"})
    assert "August Bebel" in came.text and "Clara Zetkin" in came.text
    assert "Karl Liebknecht" not in came.text
    bebel = await db.fetch_one(
        "SELECT p.source, pa.status, pa.source AS how FROM person p JOIN events_participation pa "
        "ON pa.person_id = p.id WHERE p.last_name = 'Bebel'"
    )
    assert (bebel["source"], bebel["status"], bebel["how"]) == ("event", "booked", "walk_in")


async def test_contact_person_sees_names_and_status_only_and_the_read_is_audited(
    app, client, setup, factory
):
    contact = await factory.person(setup.org["id"], first_name="Kontakt")
    event = await create(client, setup, contact_person_id=contact["id"])
    rosa = await factory.person(
        setup.org["id"], first_name="Rosa", last_name="Luxemburg", email="rosa@example.org"
    )
    await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": rosa["id"]},
        headers=setup.organizer.headers,
    )
    user = await factory.user("viewer", setup.org["id"])
    await db.execute("UPDATE orga_user SET person_id = {} WHERE id = {}", contact["id"], user.id)
    other = await factory.user("viewer", setup.org["id"])
    client.headers["accept-language"] = "en"
    await console_login(client, other.email)
    denied = await client.get(_app(setup, event, "participants"))
    assert denied.status_code == 403
    client.cookies.clear()
    await console_login(client, user.email)
    page = await client.get(_app(setup, event, "participants"))
    assert page.status_code == 200
    assert "Rosa Luxemburg" in page.text and "Signed up" in page.text
    assert "rosa@example.org" not in page.text and "Walk-in" not in page.text
    checkin = await client.get(_app(setup, event, "checkin"))
    assert checkin.status_code == 403
    await flush_list_reads(app)
    [read] = await db.fetch(
        "SELECT user_id, detail FROM audit_log WHERE action = 'events.participants_read'"
    )
    assert read["user_id"] == user.id
    assert str(rosa["id"]) in str(read["detail"]) and "limited" in str(read["detail"])


async def test_checkin_tap_redirects_to_the_row_or_answers_a_script(client, setup, factory):
    await _logged_in(client, setup)
    event = await create(client, setup)
    rosa = await factory.person(setup.org["id"], first_name="Rosa", last_name="Luxemburg")
    added = await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": rosa["id"]},
        headers=setup.organizer.headers,
    )
    pid = added.json()["id"]
    page = await client.get(_app(setup, event, "checkin"))
    token = csrf_of(page.text)
    early = await client.post(f"{_app(setup, event, 'checkin')}/{pid}", data={"_csrf": token})
    assert early.status_code == 303  # two days ahead: refused, with the reason on the list
    assert (await db.fetch_one("SELECT attendance FROM events_participation"))["attendance"] is None
    await _in_the_past(event["id"], started_hours=-0.5, ends_in_hours=3)  # starts in 30 min
    page = await client.get(_app(setup, event, "checkin"), params={"q": "lux"})
    assert 'aria-pressed="false"' in page.text and "Rosa Luxemburg" in page.text
    assert len(page.content) < 12_000  # small for a slow connection
    tap = await client.post(
        f"{_app(setup, event, 'checkin')}/{pid}", data={"_csrf": token, "q": "lux"}
    )
    assert tap.status_code == 303
    assert tap.headers["location"].endswith(f"/checkin?q=lux#p-{pid}")
    assert (await db.fetch_one("SELECT attendance FROM events_participation"))[
        "attendance"
    ] == "attended"
    script = await client.post(
        f"{_app(setup, event, 'checkin')}/{pid}",
        data={"_csrf": token},
        headers={"accept": "application/json"},
    )
    assert script.status_code == 200 and script.json() == {"id": pid, "attended": False}
    no_csrf = await client.post(f"{_app(setup, event, 'checkin')}/{pid}")
    assert no_csrf.status_code == 403
    walk_in = await client.post(
        f"{_app(setup, event, 'checkin')}/walk-in",
        data={"_csrf": token, "first_name": "Clara", "last_name": "Zetkin"},
    )
    assert walk_in.status_code == 303
    listed = await client.get(_app(setup, event, "checkin"))
    assert "Clara Zetkin" in listed.text and 'aria-pressed="true"' in listed.text


async def test_pages_of_another_units_event_are_404(client, setup, factory):
    await _logged_in(client, setup)
    other = await factory.org("KV Dresden")
    await factory.enable(other["id"], "events")
    stranger = await factory.user("organizer", other["id"])
    theirs = await client.post(
        f"/api/orgs/{other['id']}/events/",
        json={
            "title": "Dresden",
            "type": "info_stand",
            "start_at": "2030-05-01T10:00:00+02:00",
            "end_at": "2030-05-01T12:00:00+02:00",
            "state": "published",
        },
        headers=stranger.headers,
    )
    event = theirs.json()
    for page in ("shifts", "participants", "checkin"):
        mine = f"/app/orgs/{setup.org['id']}/events/{event['id']}/{page}"
        assert (await client.get(mine)).status_code == 404, page
        assert (
            await client.get(_app(type(setup)(other, None, ""), event, page))
        ).status_code == 404
