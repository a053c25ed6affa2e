"""A page of participants is audited with the ids shown (issue 21, item 12)."""

from __future__ import annotations

from core import db
from core.audit.services import flush_list_reads
from tests.plugins.events.conftest import create


async def test_participant_pages_are_audited_with_the_people_shown(app, client, setup, factory):
    event = await create(client, setup)
    people = [await factory.person(setup.org["id"]) for _ in range(3)]
    for person in people:
        added = await client.post(
            f"{setup.base}/{event['id']}/participants",
            json={"person_id": person["id"]},
            headers=setup.organizer.headers,
        )
        assert added.status_code == 201, added.text
    url = f"{setup.base}/{event['id']}/participants"
    first = await client.get(url, params={"limit": 2}, headers=setup.organizer.headers)
    cursor = first.json()["next_cursor"]
    await client.get(url, params={"limit": 2, "cursor": cursor}, headers=setup.organizer.headers)
    await flush_list_reads(app)
    rows = await db.fetch(
        "SELECT user_id, org_id, object_type, object_id, detail FROM audit_log "
        "WHERE action = 'events.participants_read' ORDER BY id"
    )
    shown = [sorted(db.json_value(r["detail"])["people"]) for r in rows]
    assert sorted(i for ids in shown for i in ids) == sorted(p["id"] for p in people)
    assert [len(ids) for ids in shown] == [2, 1]
    assert {(r["user_id"], r["org_id"], r["object_type"], r["object_id"]) for r in rows} == {
        (setup.organizer.id, setup.org["id"], "event", event["id"])
    }
