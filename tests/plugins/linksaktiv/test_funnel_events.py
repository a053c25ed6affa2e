"""With the events module on, attending an event counts as acting in the funnel (through the
events module's segment filter, never by importing it)."""

from __future__ import annotations

from datetime import timedelta

from core.tables import utcnow
from tests.plugins.linksaktiv.conftest import api
from tests.plugins.linksaktiv.test_calls_and_me import confirmed_activist


async def test_attended_event_counts_as_acted(app, client, factory, party):
    rosa = await confirmed_activist(app, client)
    funnel = await client.get(api(party.root, "/funnel"), headers=party.admin.headers)
    assert [r["acted"] for r in funnel.json()["items"]] == [0]
    await factory.enable(party.root["id"], "events")
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    event = await client.post(
        f"/api/orgs/{party.leipzig['id']}/events/",
        json={
            "title": "Infostand",
            "type": "info_stand",
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=2)).isoformat(),
            "state": "published",
        },
        headers=party.admin.headers,
    )
    assert event.status_code == 201, event.text
    base = f"/api/orgs/{party.leipzig['id']}/events/{event.json()['id']}/participants"
    booked = await client.post(
        base, json={"person_id": rosa, "status": "booked"}, headers=party.admin.headers
    )
    assert booked.status_code in (200, 201), booked.text
    attended = await client.patch(
        f"{base}/{booked.json()['id']}",
        json={"attendance": "attended"},
        headers=party.admin.headers,
    )
    assert attended.status_code == 200, attended.text
    funnel = await client.get(api(party.root, "/funnel"), headers=party.admin.headers)
    assert [r["acted"] for r in funnel.json()["items"]] == [1]
