"""Lists and exports of activists and orders are audited with the ids shown (issue 21, 12)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core import db
from core.audit.services import flush_list_reads
from core.tables import utcnow
from tests.plugins.linksaktiv.conftest import api

ADDRESS = {"street": "Hauptstraße 1", "city": "Ort"}


@pytest.fixture
async def edition(client, party) -> dict[str, Any]:
    response = await client.post(
        api(party.root, "/editions"),
        json={"title": "Zeitung 1", "date": "2026-12-01", "copies": 1000, "bundle_size": 25},
        headers=party.admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def order(client, party, person, edition) -> None:
    response = await client.post(
        api(party.root, "/orders"),
        json={"person_id": person["id"], "edition_id": edition["id"], "quantity": 60},
        headers=party.admin.headers,
    )
    assert response.status_code == 201, response.text


async def _details(app, action: str, expected: int = 1) -> list[dict[str, Any]]:
    """The audit rows of ``action`` once ``expected`` are written: a streamed download (the
    CSV lists) queues its list read after its last byte, which may be just after the client
    has it."""
    for _ in range(100):
        await flush_list_reads(app)
        rows = await db.fetch(
            "SELECT user_id, org_id, object_id, detail FROM audit_log WHERE action = {} "
            "ORDER BY id",
            action,
        )
        if len(rows) >= expected:
            break
        await asyncio.sleep(0.05)
    return [{**row, "detail": db.json_value(row["detail"])} for row in rows]


async def test_activist_list_keeps_its_filter(app, client, factory, party):
    person = await factory.person(party.leipzig["id"], postal_code="04105")
    await db.execute(
        "INSERT INTO linksaktiv_activist (person_id, status, source, help, consent_wording, "
        "created_at, updated_at) VALUES ({}, 'confirmed', 'web', '[]', 'ok', {}, {})",
        person["id"],
        utcnow(),
        utcnow(),
    )
    listed = await client.get(
        api(party.state, "/activists"), params={"status": "confirmed"}, headers=party.admin.headers
    )
    assert listed.status_code == 200, listed.text
    [row] = await _details(app, "linksaktiv.activists_listed")
    assert row["user_id"] == party.admin.id and row["org_id"] == party.state["id"]
    assert row["detail"] == {"people": [person["id"]], "filter": {"status": "confirmed"}}


async def test_pickup_lists_and_shipping_csv_name_the_people_in_them(
    app, client, factory, party, edition
):
    picks_up = await factory.person(party.leipzig["id"], postal_code="04105", **ADDRESS)
    shipped = await factory.person(party.dresden["id"], postal_code="01067", **ADDRESS)
    for person in (picks_up, shipped):
        await order(client, party, person, edition)
    for path in ("/pickup", "/pickup.csv"):
        url = api(party.root, f"/editions/{edition['id']}{path}")
        assert (await client.get(url, headers=party.admin.headers)).status_code == 200
    rows = await _details(app, "linksaktiv.pickup_listed", expected=2)
    assert [(r["object_id"], r["detail"]) for r in rows] == [
        (edition["id"], {"people": [picks_up["id"]]})
    ] * 2
    export = await client.get(
        api(party.root, "/orders/shipping.csv"),
        params={"edition_id": edition["id"]},
        headers=party.admin.headers,
    )
    assert export.status_code == 200 and "Hauptstraße 1" in export.text
    [row] = await _details(app, "linksaktiv.shipping_exported")
    assert row["detail"]["people"] == [shipped["id"]]
    assert row["detail"]["filter"]["edition"] == edition["id"]
