"""The events module's hooks: segment filters, GDPR export/erasure, merge, person summary,
and the mail template context with upcoming events near a person."""

from __future__ import annotations

from datetime import timedelta

from core import db
from core.tables import utcnow
from tests.plugins.events.conftest import create


async def _add(client, setup, event_id, person_id, status="signed_up"):
    response = await client.post(
        f"{setup.base}/{event_id}/participants",
        json={"person_id": person_id, "status": status},
        headers=setup.organizer.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _preview(client, setup, filters):
    response = await client.post(
        f"/api/orgs/{setup.org['id']}/segments/preview",
        json={"filters": filters},
        headers=setup.organizer.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["count"]


async def _to_past(event_id):
    await db.execute(
        "UPDATE events_event SET start_at = {}, end_at = {} WHERE id = {}",
        utcnow() - timedelta(days=2, hours=3),
        utcnow() - timedelta(days=2),
        event_id,
    )


async def test_segment_filters(client, setup, factory):
    stand = await create(client, setup, campaign="Mieten")
    demo = await create(client, setup, type="demo", campaign="Frieden")
    a, b, c = [await factory.person(setup.org["id"], first_name=n) for n in "ABC"]
    await _add(client, setup, stand["id"], a["id"], "booked")
    pb = await _add(client, setup, stand["id"], b["id"])
    await _add(client, setup, demo["id"], c["id"])
    assert (
        await _preview(
            client,
            setup,
            [{"type": "event_participation", "status": "signed_up", "event_id": stand["id"]}],
        )
        == 2
    )
    assert (
        await _preview(
            client,
            setup,
            [{"type": "event_participation", "status": "booked", "event_id": stand["id"]}],
        )
        == 1
    )
    assert (
        await _preview(
            client,
            setup,
            [{"type": "event_participation", "status": "signed_up", "event_type": "demo"}],
        )
        == 1
    )
    assert (
        await _preview(
            client,
            setup,
            [{"type": "event_participation", "status": "signed_up", "campaign": "Mieten"}],
        )
        == 2
    )
    window = {
        "start_from": (utcnow() + timedelta(days=1)).isoformat(),
        "start_to": (utcnow() + timedelta(days=3)).isoformat(),
    }
    assert (
        await _preview(
            client, setup, [{"type": "event_participation", "status": "signed_up", **window}]
        )
        == 3
    )
    await _to_past(stand["id"])
    base = f"{setup.base}/{stand['id']}/participants"
    await client.patch(
        f"{base}/{pb['id']}", json={"attendance": "no_show"}, headers=setup.organizer.headers
    )
    assert (
        await _preview(client, setup, [{"type": "event_participation", "status": "no_show"}]) == 1
    )
    assert (
        await _preview(client, setup, [{"type": "event_participation", "status": "attended"}]) == 0
    )
    # everyone who signed up for anything, minus the no-shows
    assert (
        await _preview(
            client,
            setup,
            [
                {"type": "event_participation", "status": "signed_up"},
                {"type": "event_participation", "status": "no_show", "op": "sub"},
            ],
        )
        == 2
    )


async def test_most_active_by_events_attended(client, setup, factory):
    a, b, c = [await factory.person(setup.org["id"], first_name=n) for n in "ABC"]
    recent, old = await create(client, setup), await create(client, setup)
    marks = [(recent, a, "attended"), (old, a, "attended"), (recent, b, "attended")]
    marks.append((old, c, "no_show"))
    added = [await _add(client, setup, event["id"], person["id"]) for event, person, _ in marks]
    for event, days in ((recent, 2), (old, 40)):
        await db.execute(
            "UPDATE events_event SET start_at = {}, end_at = {} WHERE id = {}",
            utcnow() - timedelta(days=days, hours=3),
            utcnow() - timedelta(days=days),
            event["id"],
        )
    for (event, _, attendance), participation in zip(marks, added, strict=True):
        response = await client.patch(
            f"{setup.base}/{event['id']}/participants/{participation['id']}",
            json={"attendance": attendance},
            headers=setup.organizer.headers,
        )
        assert response.status_code == 200, response.text

    async def count(**fields):
        response = await client.post(
            f"/api/orgs/{setup.org['id']}/segments/preview",
            json={"where": {"type": "event_activity", **fields}},
            headers=setup.organizer.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()["count"]

    assert await count() == 2
    assert await count(at_least=2) == 1
    assert await count(days=7) == 2
    assert await count(days=7, at_least=2) == 0
    assert await count(before=(utcnow() - timedelta(days=10)).isoformat()) == 1


async def test_export_erase_and_contact_person(client, setup, factory):
    admin = await factory.user("admin", setup.org["id"])
    person = await factory.person(setup.org["id"], first_name="Ottilie")
    event = await create(client, setup, contact_person_id=person["id"])
    await _add(client, setup, event["id"], person["id"], "booked")
    url = f"/api/orgs/{setup.org['id']}/people/{person['id']}"
    export = (await client.get(f"{url}/export", headers=admin.headers)).json()
    data = export["modules"]["events"]
    assert [p["event_id"] for p in data["participations"]] == [event["id"]]
    assert data["participations"][0]["status"] == "booked"
    assert [e["id"] for e in data["contact_person_of"]] == [event["id"]]
    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    assert await db.fetch("SELECT id FROM events_participation") == []
    row = await db.fetch_one(
        "SELECT contact_person_id FROM events_event WHERE id = {}", event["id"]
    )
    assert row["contact_person_id"] is None


async def test_merge_keeps_one_participation_per_event(client, setup, factory):
    admin = await factory.user("admin", setup.org["id"])
    kept = await factory.person(setup.org["id"], first_name="Rosa", email="rosa@example.org")
    dup = await factory.person(setup.org["id"], first_name="Rosa", email="rosa2@example.org")
    shared = await create(client, setup)
    only_dup = await create(client, setup, title="Nur Duplikat")
    await _add(client, setup, shared["id"], kept["id"])
    await _add(client, setup, shared["id"], dup["id"], "booked")
    await _add(client, setup, only_dup["id"], dup["id"])
    response = await client.post(
        f"/api/orgs/{setup.org['id']}/people/merge",
        json={"kept_id": kept["id"], "merged_ids": [dup["id"]]},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    rows = await db.fetch(
        "SELECT event_id, person_id, status FROM events_participation ORDER BY event_id"
    )
    assert rows == [
        {"event_id": shared["id"], "person_id": kept["id"], "status": "booked"},
        {"event_id": only_dup["id"], "person_id": kept["id"], "status": "signed_up"},
    ]


async def test_person_summary_shows_upcoming_and_past(client, setup, factory):
    person = await factory.person(setup.org["id"])
    upcoming = await create(client, setup, title="Kommt noch")
    past = await create(client, setup, title="War schon")
    await _add(client, setup, upcoming["id"], person["id"])
    await _add(client, setup, past["id"], person["id"], "booked")
    await _to_past(past["id"])
    detail = await client.get(
        f"/api/orgs/{setup.org['id']}/people/{person['id']}", headers=setup.organizer.headers
    )
    summary = detail.json()["summaries"]["events"]
    assert [e["title"] for e in summary["upcoming"]] == ["Kommt noch"]
    assert [(e["title"], e["status"]) for e in summary["past"]] == [("War schon", "booked")]


async def test_template_context_offers_events_near_the_person(client, setup, factory, app):
    from core.context import set_runtime

    local = await factory.org("OV Connewitz", parent=setup.org["id"])
    other_local = await factory.org("OV Grünau", parent=setup.org["id"])
    await factory.enable(local["id"], "events")
    person = await factory.person(local["id"])
    district = await create(client, setup, title="Kreisweit")
    here = type(setup)(local, setup.organizer, f"/api/orgs/{local['id']}/events")
    there = type(setup)(other_local, setup.organizer, f"/api/orgs/{other_local['id']}/events")
    await factory.enable(other_local["id"], "events")
    await create(client, here, title="Connewitz")
    await create(client, there, title="Grünau")
    await create(client, setup, title="Intern", visibility="internal")
    set_runtime(app.state.orga)
    results = dict(
        await app.state.orga.registry.gather_each(
            "template_context", person_id=person["id"], org_id=setup.org["id"]
        )
    )
    titles = sorted(e["title"] for e in results["events"]["upcoming_events"])
    assert titles == ["Connewitz", "Kreisweit"]
    assert all(
        e["url"].startswith("http://testserver.local/p/events/")
        for e in results["events"]["upcoming_events"]
    )
    assert district["id"]
