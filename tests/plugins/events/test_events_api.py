"""Events CRUD through the API: validation, visibility, state, copy, weekly series, scoping."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.etags import two_organizers
from tests.plugins.events.conftest import create, event_body


async def test_create_read_update_and_list(client, setup):
    event = await create(client, setup, participants_needed=4, capacity=6)
    assert event["state"] == "published" and event["ended"] is False
    assert event["counts"] == {
        "needed": 4,
        "booked": 0,
        "signed_up": 0,
        "waiting": 0,
        "attended": 0,
        "no_show": 0,
        "free": 6,
    }
    url = f"{setup.base}/{event['id']}"
    changed = await client.patch(
        url,
        json={"title": "Infostand Wohnen", "visibility": "members"},
        headers=setup.organizer.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Infostand Wohnen"
    assert changed.json()["visibility"] == "members"
    listed = await client.get(setup.base + "/", headers=setup.organizer.headers)
    assert [e["id"] for e in listed.json()["items"]] == [event["id"]]


async def test_validation_names_the_field(client, setup):
    bad_type = await client.post(
        setup.base + "/", json=event_body(type="karaoke"), headers=setup.organizer.headers
    )
    assert bad_type.status_code == 422
    assert bad_type.headers["content-type"].startswith("application/problem+json")
    assert bad_type.json()["errors"][0]["field"] == "type"
    start = datetime.now(ZoneInfo("UTC")) + timedelta(days=1)
    backwards = await client.post(
        setup.base + "/",
        json=event_body(
            start_at=start.isoformat(), end_at=(start - timedelta(hours=1)).isoformat()
        ),
        headers=setup.organizer.headers,
    )
    assert backwards.status_code in (400, 422)
    too_long = await client.post(
        setup.base + "/",
        json=event_body(
            start_at=start.isoformat(), end_at=(start + timedelta(days=15)).isoformat()
        ),
        headers=setup.organizer.headers,
    )
    assert too_long.status_code in (400, 422)
    naive = await client.post(
        setup.base + "/",
        json=event_body(start_at="2030-01-01T10:00:00"),
        headers=setup.organizer.headers,
    )
    assert naive.status_code in (400, 422)


async def test_event_types_come_from_the_deployment(client, setup, app):
    from core.settings import load_settings

    runtime = app.state.orga
    settings = runtime.settings
    runtime.settings = load_settings(
        environ={"ORGA_EVENTS__TYPES": "plakatieren, info_stand"},
        **{k: getattr(settings, k) for k in ("var_dir", "database_url", "secret_key", "env")},
    )
    try:
        ok = await client.post(
            setup.base + "/", json=event_body(type="plakatieren"), headers=setup.organizer.headers
        )
        assert ok.status_code == 201, ok.text
        no = await client.post(
            setup.base + "/", json=event_body(type="demo"), headers=setup.organizer.headers
        )
        assert no.status_code == 422
    finally:
        runtime.settings = settings


async def test_another_units_event_is_404_and_viewers_cannot_write(client, setup, factory):
    event = await create(client, setup)
    other = await factory.org("KV Dresden")
    await factory.enable(other["id"], "events")
    stranger = await factory.user("organizer", other["id"])
    url = f"{setup.base}/{event['id']}"
    assert (await client.get(url, headers=stranger.headers)).status_code in (403, 404)
    wrong_unit = f"/api/orgs/{other['id']}/events/{event['id']}"
    assert (await client.get(wrong_unit, headers=stranger.headers)).status_code == 404
    viewer = await factory.user("viewer", setup.org["id"])
    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    denied = await client.patch(url, json={"title": "x"}, headers=viewer.headers)
    assert denied.status_code == 403


async def test_copy_makes_a_draft_at_the_new_time(client, setup):
    event = await create(client, setup, capacity=5)
    new_start = datetime.fromisoformat(event["start_at"]) + timedelta(days=10)
    response = await client.post(
        f"{setup.base}/{event['id']}/copy",
        json={"start_at": new_start.isoformat()},
        headers=setup.organizer.headers,
    )
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != event["id"] and copy["state"] == "draft"
    assert copy["title"] == event["title"] and copy["capacity"] == 5
    assert datetime.fromisoformat(copy["start_at"]) == new_start
    duration = datetime.fromisoformat(copy["end_at"]) - datetime.fromisoformat(copy["start_at"])
    assert duration == timedelta(hours=3)


async def test_weekly_series_keeps_local_time_across_dst(client, setup):
    berlin = ZoneInfo("Europe/Berlin")
    # Saturday before the end of summer time: 10:00 local is 08:00 UTC, a week later 09:00 UTC.
    year = datetime.now(berlin).year + 1
    start = datetime(year, 10, 20, 10, 0, tzinfo=berlin)
    while start.weekday() != 5:
        start += timedelta(days=1)
    event = await create(
        client,
        setup,
        start_at=start.isoformat(),
        end_at=(start + timedelta(hours=2)).isoformat(),
        timezone="Europe/Berlin",
    )
    response = await client.post(
        f"{setup.base}/{event['id']}/series", json={"weeks": 3}, headers=setup.organizer.headers
    )
    assert response.status_code == 201, response.text
    series = response.json()
    assert len(series) == 3
    assert {e["series_id"] for e in series} == {event["id"]}
    for k, item in enumerate(series, start=1):
        local = datetime.fromisoformat(item["start_at"]).astimezone(berlin)
        assert (local.hour, local.minute) == (10, 0)
        assert local.date() == (start + timedelta(weeks=k)).date()
        assert item["state"] == "published"
    original = await client.get(f"{setup.base}/{event['id']}", headers=setup.organizer.headers)
    assert original.json()["series_id"] == event["id"]


async def test_delete_only_without_participants(client, setup, factory):
    draft = await create(client, setup, state="draft")
    deleted = await client.delete(f"{setup.base}/{draft['id']}", headers=setup.organizer.headers)
    assert deleted.status_code == 204
    event = await create(client, setup)
    person = await factory.person(setup.org["id"])
    await client.post(
        f"{setup.base}/{event['id']}/participants",
        json={"person_id": person["id"]},
        headers=setup.organizer.headers,
    )
    refused = await client.delete(f"{setup.base}/{event['id']}", headers=setup.organizer.headers)
    assert refused.status_code == 409


async def test_cancelled_stays_cancelled_and_ended_is_derived(client, setup):
    event = await create(client, setup)
    url = f"{setup.base}/{event['id']}"
    await client.patch(url, json={"state": "cancelled"}, headers=setup.organizer.headers)
    again = await client.patch(url, json={"state": "published"}, headers=setup.organizer.headers)
    assert again.status_code == 409
    past_start = datetime.now(ZoneInfo("UTC")) - timedelta(days=3)
    past = await create(
        client,
        setup,
        start_at=past_start.isoformat(),
        end_at=(past_start + timedelta(hours=2)).isoformat(),
    )
    assert past["ended"] is True


async def test_calendar_lists_by_start_time_with_filters(client, setup):
    base = datetime.fromisoformat((await create(client, setup, title="A"))["start_at"])
    for days, title, state in ((3, "D", "published"), (1, "B", "draft"), (2, "C", "published")):
        start = base + timedelta(days=days)
        await create(
            client,
            setup,
            title=title,
            state=state,
            start_at=start.isoformat(),
            end_at=(start + timedelta(hours=1)).isoformat(),
        )
    url = f"{setup.base}/calendar"
    first = (await client.get(url, params={"limit": 2}, headers=setup.organizer.headers)).json()
    assert [e["title"] for e in first["items"]] == ["A", "B"]
    rest = await client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=setup.organizer.headers
    )
    assert [e["title"] for e in rest.json()["items"]] == ["C", "D"]
    window = {
        "starts_from": (base + timedelta(hours=12)).isoformat(),
        "starts_before": (base + timedelta(days=2, hours=12)).isoformat(),
        "event_state": "published",
    }
    only = await client.get(url, params=window, headers=setup.organizer.headers)
    assert [e["title"] for e in only.json()["items"]] == ["C"]
    naive = await client.get(
        url, params={"starts_from": "2030-01-01T00:00:00"}, headers=setup.organizer.headers
    )
    assert naive.status_code in (400, 422)


async def test_two_organizers_cannot_overwrite_each_others_event_change(client, factory, setup):
    """Both read the event; the second PATCH with the ETag read is a 412."""
    event = await create(client, setup)
    colleague = await factory.user("organizer", setup.org["id"])
    after = await two_organizers(
        client,
        f"{setup.base}/{event['id']}",
        (setup.organizer, {"title": "Infostand Wohnen"}),
        (colleague, {"title": "Infostand Pflege", "visibility": "members"}),
    )
    assert after["title"] == "Infostand Wohnen" and after["visibility"] == "public"


async def test_a_patch_naming_the_time_zone_is_saved(client, setup):
    """The time zone is plain text, not JSON like the place: a PATCH that names it (as the
    console's edit form always does) was a 500."""
    event = await create(client, setup)
    changed = await client.patch(
        f"{setup.base}/{event['id']}",
        json={"timezone": "Europe/Stockholm", "title": "Infostand Malmö"},
        headers=setup.organizer.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["timezone"] == "Europe/Stockholm"
