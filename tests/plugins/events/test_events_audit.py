"""The events services write their audit rows: the API's and a command's alike (issue 24)."""

from __future__ import annotations

import msgspec

from core import db
from core.context import set_runtime
from plugins.events import services
from plugins.events.schemas import EventIn
from tests.plugins.events.conftest import create, event_body


async def _rows(*actions: str) -> list[tuple]:
    marks = ", ".join(["{}"] * len(actions))
    rows = await db.fetch(
        "SELECT action, user_id, token_id, org_id, object_type, object_id, detail FROM audit_log "
        f"WHERE action IN ({marks}) ORDER BY id",
        *actions,
    )
    return [tuple(row.values()) for row in rows]


async def test_every_change_through_the_api_is_audited_as_the_organizer(client, setup, factory):
    headers, org_id = setup.organizer.headers, setup.org["id"]
    who = (setup.organizer.id, setup.organizer.token_id, org_id)
    event = await create(client, setup)
    url = f"{setup.base}/{event['id']}"
    changed = await client.patch(url, json={"title": "Infostand"}, headers=headers)
    assert changed.status_code == 200, changed.text
    copy = await client.post(url + "/copy", json={"start_at": event["end_at"]}, headers=headers)
    assert copy.status_code == 201, copy.text
    series = await client.post(url + "/series", json={"weeks": 2}, headers=headers)
    assert series.status_code == 201, series.text
    deleted = await client.delete(f"{setup.base}/{copy.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    person = await factory.person(org_id)
    added = await client.post(
        url + "/participants", json={"person_id": person["id"]}, headers=headers
    )
    assert added.status_code == 201, added.text
    participation = added.json()["id"]
    booked = await client.patch(
        f"{url}/participants/{participation}", json={"status": "booked"}, headers=headers
    )
    assert booked.status_code == 200, booked.text
    weekly = [row["id"] for row in series.json()]
    event_rows = [("events.created", *who, "event", event["id"], None)]
    event_rows.append(("events.updated", *who, "event", event["id"], None))
    event_rows.append(("events.created", *who, "event", copy.json()["id"], None))
    event_rows += [("events.created", *who, "event", i, None) for i in weekly]
    event_rows.append(("events.deleted", *who, "event", copy.json()["id"], None))
    assert await _rows("events.created", "events.updated", "events.deleted") == event_rows
    assert await _rows("events.participant_added", "events.participant_changed") == [
        ("events.participant_added", *who, "participation", participation, None),
        ("events.participant_changed", *who, "participation", participation, None),
    ]


async def test_an_event_created_by_a_command_is_audited_without_a_user(app, client, setup):
    set_runtime(app.state.orga)  # as the commands and the worker do
    data = msgspec.convert(event_body(), EventIn, strict=False)
    row = await services.create_event(setup.org["id"], setup.org["path"], data)
    assert await _rows("events.created") == [
        ("events.created", None, None, setup.org["id"], "event", row["id"], None)
    ]
