"""The organizer's event pages over HTTP (issue #26 items 1, 2, 6 and 7): the list by tab and
filter, the month, create and edit with errors beside the field, publish, copy, a weekly
series, cancel with the notice count, the reminders, the QR code, the statistics; 404 across
units and permissions."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import PIL.Image
import pytest
import zxingcpp

from core import db
from core.jobs.worker import Worker
from core.tables import utcnow
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.events.conftest import create

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "mail_from": "KV Leipzig <kv@example.org>"}


async def _console(client, setup, user=None):
    await console_login(client, (user or setup.organizer).email)
    client.cookies.set("orga_lang", "en")
    return f"/app/orgs/{setup.org['id']}/events"


def _local(days: int, hour: int) -> str:
    day = (utcnow().astimezone(BERLIN) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def _fields(**given: str) -> dict[str, str]:
    body = {
        "title": "Infostand Mietendeckel",
        "type": "info_stand",
        "description": "Flyer **verteilen**.",
        "start_at": _local(3, 10),
        "end_at": _local(3, 16),
        "location": "Marktplatz",
        "location_address": "Markt 1, Leipzig",
        "capacity": "12",
        "visibility": "public",
        "contact_person_id": "",
        "reminder_hours": "24",
    }
    body.update(given)
    return body


async def _post(client, url: str, page_url: str, **fields: str):
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(url, data={**fields, "_csrf": csrf_of(page.text)})


async def test_create_shows_errors_beside_the_fields_then_saves_a_draft_and_publishes(
    client, setup, factory
):
    base = await _console(client, setup)
    bad = await _post(
        client,
        f"{base}/new",
        f"{base}/new",
        **_fields(title="", end_at=_local(2, 9), type="juggling"),
    )
    assert bad.status_code == 422
    assert 'id="f-end_at-error"' in bad.text
    assert 'value="Marktplatz"' in bad.text  # nothing typed is lost
    bad = await _post(client, f"{base}/new", f"{base}/new", **_fields(title=""))
    assert bad.status_code == 422 and 'id="f-title-error"' in bad.text
    bad = await _post(client, f"{base}/new", f"{base}/new", **_fields(type="juggling"))
    assert bad.status_code == 422 and 'id="f-type-error"' in bad.text
    assert await db.fetch("SELECT id FROM events_event") == []

    preview = await _post(client, f"{base}/new", f"{base}/new", **_fields(), preview="1")
    assert preview.status_code == 200 and "<strong>verteilen</strong>" in preview.text

    made = await _post(client, f"{base}/new", f"{base}/new", **_fields())
    assert made.status_code == 303
    row = await db.fetch_one("SELECT id, state, capacity, start_at, location FROM events_event")
    assert row["state"] == "draft" and row["capacity"] == 12
    assert row["start_at"].astimezone(BERLIN).hour == 10
    audit = await db.fetch("SELECT action FROM audit_log WHERE object_type = 'event'")
    assert [a["action"] for a in audit] == ["events.created"]

    page = await client.get(f"{base}/{row['id']}")
    assert page.status_code == 200 and "<strong>verteilen</strong>" in page.text
    published = await _post(client, f"{base}/{row['id']}/publish", f"{base}/{row['id']}")
    assert published.status_code == 303
    assert (await db.fetch_one("SELECT state FROM events_event"))["state"] == "published"

    edit = await client.get(f"{base}/{row['id']}/edit")
    assert 'value="Marktplatz"' in edit.text
    saved = await _post(
        client, f"{base}/{row['id']}/edit", f"{base}/{row['id']}/edit", **_fields(capacity="0")
    )
    assert saved.status_code == 422 and 'id="f-capacity-error"' in saved.text
    saved = await _post(
        client, f"{base}/{row['id']}/edit", f"{base}/{row['id']}/edit", **_fields(title="Neu")
    )
    assert saved.status_code == 303
    assert (await db.fetch_one("SELECT title FROM events_event"))["title"] == "Neu"


async def test_the_contact_person_is_one_of_the_units_users(client, setup, factory):
    base = await _console(client, setup)
    rosa = await factory.person(setup.org["id"], first_name="Rosa", last_name="L")
    await db.execute(
        "UPDATE orga_user SET person_id = {} WHERE id = {}", rosa["id"], setup.organizer.id
    )
    stranger = await factory.person(setup.org["id"], first_name="Fremd")  # no user
    form = await client.get(f"{base}/new")
    assert f'<option value="{rosa["id"]}"' in form.text
    assert f'<option value="{stranger["id"]}"' not in form.text
    other = await factory.org("KV Dresden")
    outsider = await factory.person(other["id"], first_name="Draußen")
    bad = await _post(
        client, f"{base}/new", f"{base}/new", **_fields(contact_person_id=str(outsider["id"]))
    )
    assert bad.status_code == 422 and 'id="f-contact_person_id-error"' in bad.text
    made = await _post(
        client, f"{base}/new", f"{base}/new", **_fields(contact_person_id=str(rosa["id"]))
    )
    assert made.status_code == 303
    row = await db.fetch_one("SELECT contact_person_id FROM events_event")
    assert row["contact_person_id"] == rosa["id"]


async def test_list_tabs_filters_paging_and_the_month(client, setup, factory):
    base = await _console(client, setup)
    child = await factory.org("OV Süd", parent=setup.org["id"])
    await factory.enable(child["id"], "events")
    now = utcnow().replace(microsecond=0)
    soon = await create(
        client,
        setup,
        title="Bald",
        start_at=(now + timedelta(days=1)).isoformat(),
        end_at=(now + timedelta(days=1, hours=2)).isoformat(),
    )
    await create(
        client,
        setup,
        title="Vorbei",
        start_at=(now - timedelta(days=3)).isoformat(),
        end_at=(now - timedelta(days=3, hours=-2)).isoformat(),
    )
    await create(client, setup, title="Entwurf", state="draft", type="meeting")
    response = await client.post(
        f"/api/orgs/{child['id']}/events/",
        json={
            "title": "Im Ortsverband",
            "type": "meeting",
            "start_at": (now + timedelta(days=2)).isoformat(),
            "end_at": (now + timedelta(days=2, hours=1)).isoformat(),
            "state": "published",
        },
        headers=setup.organizer.headers,
    )
    assert response.status_code == 201
    upcoming = await client.get(base)
    assert upcoming.status_code == 200
    assert "Bald" in upcoming.text and "Im Ortsverband" in upcoming.text
    assert "Vorbei" not in upcoming.text and "Entwurf" not in upcoming.text
    assert upcoming.text.index("Bald") < upcoming.text.index("Im Ortsverband")
    past = await client.get(base, params={"tab": "past"})
    assert "Vorbei" in past.text and "Bald" not in past.text
    drafts = await client.get(base, params={"tab": "drafts"})
    assert "Entwurf" in drafts.text and "Bald" not in drafts.text
    only_child = await client.get(base, params={"unit": str(child["id"])})
    assert "Im Ortsverband" in only_child.text and "Bald" not in only_child.text
    meetings = await client.get(base, params={"type": "meeting"})
    assert "Im Ortsverband" in meetings.text and "Bald" not in meetings.text
    wrong = await client.get(base, params={"type": "juggling", "unit": "99999"})
    assert wrong.status_code == 422 and 'id="f-type-error"' in wrong.text
    assert (await client.get(base, params={"tab": "later"})).status_code == 422

    start = soon["start_at"]
    await db.bulk_insert(
        "events_event",
        ("org_id", "title", "type", "start_at", "end_at", "state", "created_at", "updated_at"),
        [
            (
                setup.org["id"],
                f"Serie {k}",
                "info_stand",
                now + timedelta(days=1, minutes=k),
                now + timedelta(days=1, hours=1),
                "published",
                now,
                now,
            )
            for k in range(60)
        ],
    )
    assert start
    first = await client.get(base)
    link = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await client.get(link.replace("&amp;", "&"))
    assert second.status_code == 200 and "Serie 59" in second.text and "Serie 0<" not in second.text

    day = soon["start_at"][:7]
    month = await client.get(base, params={"view": "month", "month": day})
    assert month.status_code == 200 and 'class="month-grid"' in month.text
    assert "Bald" in month.text and "Entwurf" in month.text
    assert (await client.get(base, params={"view": "month", "month": "2026-13"})).status_code == 422


async def test_copy_and_weekly_series_through_the_services(client, setup, factory):
    base = await _console(client, setup)
    event = await create(client, setup, state="draft")
    page = f"{base}/{event['id']}"
    bad = await _post(client, f"{page}/copy", page, start_at="morgen")
    assert bad.status_code == 422 and 'id="f-start_at-error"' in bad.text
    copied = await _post(client, f"{page}/copy", page, start_at=_local(10, 9))
    assert copied.status_code == 303
    copy = await db.fetch_one(
        "SELECT state, start_at FROM events_event WHERE id <> {}", event["id"]
    )
    assert copy["state"] == "draft" and copy["start_at"].astimezone(BERLIN).hour == 9

    start = (utcnow() + timedelta(days=2)).astimezone(BERLIN).date()
    too_soon = await _post(client, f"{page}/series", page, until=start.isoformat())
    assert too_soon.status_code == 422 and 'id="f-until-error"' in too_soon.text
    series = await _post(
        client, f"{page}/series", page, until=(start + timedelta(days=22)).isoformat()
    )
    assert series.status_code == 303
    rows = await db.fetch(
        "SELECT id FROM events_event WHERE series_id = {} AND id <> {}", event["id"], event["id"]
    )
    assert len(rows) == 3  # +7, +14, +21 days
    audit = await db.fetch("SELECT id FROM audit_log WHERE action = 'events.created'")
    assert len(audit) == 1 + 1 + 3


async def test_cancel_asks_and_tells_how_many_get_the_notice(
    client, setup, factory, app, smtp_sink
):
    base = await _console(client, setup)
    event = await create(client, setup)
    for name in ("rosa", "karl"):
        person = await factory.person(setup.org["id"], first_name=name, email=f"{name}@x.org")
        await client.post(
            f"{setup.base}/{event['id']}/participants",
            json={"person_id": person["id"]},
            headers=setup.organizer.headers,
        )
    await factory.person(setup.org["id"], first_name="Ohne")
    page = f"{base}/{event['id']}"
    ask = await client.get(f"{page}/cancel")
    assert ask.status_code == 200 and "2 people get the cancellation notice" in ask.text
    unconfirmed = await _post(client, f"{page}/cancel", f"{page}/cancel")
    assert unconfirmed.status_code == 303
    assert (await db.fetch_one("SELECT state FROM events_event"))["state"] == "published"
    done = await _post(client, f"{page}/cancel", f"{page}/cancel", confirm="yes")
    assert done.status_code == 303
    assert (await db.fetch_one("SELECT state FROM events_event"))["state"] == "cancelled"
    await Worker(app.state.orga.job_handlers(), concurrency=2).drain()
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages) == [
        "karl@x.org",
        "rosa@x.org",
    ]


async def test_the_event_page_shows_reminders_public_link_qr_and_feeds(client, setup, factory):
    base = await _console(client, setup)
    event = await create(client, setup, reminder_hours=12)
    page = await client.get(f"{base}/{event['id']}")
    assert page.status_code == 200
    public = f"/p/events/{setup.org['id']}/{event['id']}"
    assert 'id="mail-plan"' in page.text and "12 hours before the start" in page.text
    assert public in page.text and f"{public}/event.ics" in page.text
    assert f"/p/events/{setup.org['id']}/feed.ics" in page.text
    assert '<svg role="img"' in page.text
    for link in ("participants", "shifts", "checkin"):
        assert f'href="{base}/{event["id"]}/{link}"' in page.text
    png = await client.get(f"{base}/{event['id']}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    [code] = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png.content)))
    assert code.text.endswith(public)


async def test_stats_count_signups_per_week_and_attendance_per_type(client, setup, factory):
    base = await _console(client, setup)
    now = utcnow().replace(microsecond=0)
    event = await create(
        client,
        setup,
        start_at=(now - timedelta(hours=3)).isoformat(),
        end_at=(now + timedelta(hours=1)).isoformat(),
    )
    ids = []
    for name in ("a", "b", "c", "d"):
        person = await factory.person(setup.org["id"], first_name=name)
        made = await client.post(
            f"{setup.base}/{event['id']}/participants",
            json={"person_id": person["id"], "status": "booked"},
            headers=setup.organizer.headers,
        )
        ids.append(made.json()["id"])
    for pid in ids[:3]:
        await client.patch(
            f"{setup.base}/{event['id']}/participants/{pid}",
            json={"attendance": "attended"},
            headers=setup.organizer.headers,
        )
    await db.execute("UPDATE events_event SET end_at = {}", now - timedelta(minutes=1))
    stats = await client.get(f"{base}/stats")
    assert stats.status_code == 200
    assert "4 sign-ups" in stats.text
    table = stats.text.split('id="attendance-table"')[1]
    assert "Info stand" in table and "75 %" in table
    assert 'id="chart-signups"' in stats.text and 'id="chart-attendance"' in stats.text


async def test_other_units_get_404_and_viewers_neither_edit_nor_see_buttons(client, setup, factory):
    other = await factory.org("KV Dresden")
    await factory.enable(other["id"], "events")
    dresden = await factory.user("organizer", other["id"])
    theirs = await client.post(
        f"/api/orgs/{other['id']}/events/",
        json={
            "title": "Fremd",
            "type": "meeting",
            "start_at": (utcnow() + timedelta(days=1)).isoformat(),
            "end_at": (utcnow() + timedelta(days=1, hours=1)).isoformat(),
        },
        headers=dresden.headers,
    )
    base = await _console(client, setup)
    for path in ("", "/edit", "/cancel", "/qr.png"):
        response = await client.get(f"{base}/{theirs.json()['id']}{path}")
        assert response.status_code == 404, path
    mine = await create(client, setup, state="draft")
    client.cookies.clear()
    viewer = await factory.user("viewer", setup.org["id"])
    await _console(client, setup, viewer)
    home = await client.get(f"/app/orgs/{setup.org['id']}")
    assert f'href="{base}"' in home.text  # the menu entry: viewers see events
    page = await client.get(f"{base}/{mine['id']}")
    assert page.status_code == 200 and f"{base}/{mine['id']}/publish" not in page.text
    assert (await client.get(f"{base}/new")).status_code == 403
    refused = await client.post(f"{base}/{mine['id']}/publish", data={"_csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert (await db.fetch_one("SELECT state FROM events_event WHERE id = {}", mine["id"]))[
        "state"
    ] == "draft"
    client.cookies.clear()
    nobody = await factory.user(None, None)
    await _console(client, setup, nobody)
    assert (await client.get(base)).status_code in (403, 404)
