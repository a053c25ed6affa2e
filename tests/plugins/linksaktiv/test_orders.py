"""Editions and orders: pickup or shipping, status moves, shipping CSV, pickup lists, report."""

from __future__ import annotations

import csv
import io

import pytest

from core import db
from core.orgs.services import update_unit
from tests.plugins.linksaktiv.conftest import api

ADDRESS = {"street": "Hauptstraße 1", "city": "Ort"}


@pytest.fixture
async def edition(client, party):
    response = await client.post(
        api(party.root, "/editions"),
        json={"title": "Zeitung 1", "date": "2026-12-01", "copies": 1000, "bundle_size": 25},
        headers=party.admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def order(client, party, person, edition, quantity=60):
    return await client.post(
        api(party.root, "/orders"),
        json={"person_id": person["id"], "edition_id": edition["id"], "quantity": quantity},
        headers=party.admin.headers,
    )


async def test_delivery_is_pickup_inside_office_coverage_else_shipping(
    client, factory, party, edition
):
    in_leipzig = await factory.person(party.leipzig["id"], postal_code="04105", **ADDRESS)
    in_dresden = await factory.person(party.dresden["id"], postal_code="01067", **ADDRESS)
    nowhere = await factory.person(party.root["id"], postal_code="80331", **ADDRESS)
    pickup = (await order(client, party, in_leipzig, edition)).json()
    assert (pickup["delivery"], pickup["pickup_org_id"]) == ("pickup", party.leipzig["id"])
    shipping = (await order(client, party, in_dresden, edition, 30)).json()
    assert (shipping["delivery"], shipping["pickup_org_id"], shipping["bundles"]) == (
        "shipping",
        None,
        2,
    )
    far = (await order(client, party, nowhere, edition, 10)).json()
    assert far["delivery"] == "shipping"

    export = await client.get(api(party.root, "/orders/shipping.csv"), headers=party.admin.headers)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sorted(int(r["order_id"]) for r in rows) == sorted([shipping["id"], far["id"]])
    first = next(r for r in rows if int(r["order_id"]) == shipping["id"])
    assert (first["street"], first["postal_code"], first["copies"], first["bundles"]) == (
        "Hauptstraße 1",
        "01067",
        "30",
        "2",
    )

    lists = await client.get(
        api(party.root, f"/editions/{edition['id']}/pickup"), headers=party.admin.headers
    )
    [line] = lists.json()["items"]
    assert (line["office_org_id"], line["order_id"], line["copies"]) == (
        party.leipzig["id"],
        pickup["id"],
        60,
    )
    assert line["address"].startswith("Braustraße") and line["opening_hours"] == "Mo-Fr 10-18"
    printed = await client.get(
        api(party.root, f"/editions/{edition['id']}/pickup.csv"), headers=party.admin.headers
    )
    [line] = list(csv.DictReader(io.StringIO(printed.text)))
    assert (line["office"], line["order_id"], line["copies"]) == (
        "KV Leipzig",
        str(pickup["id"]),
        "60",
    )


async def test_pickup_list_pages_follow_the_printed_order(client, factory, party, edition):
    """Keyset pages of the pickup orders, by office, then name: the order of the CSV."""
    await update_unit(party.dresden["id"], {"office": {"address": "Großenhainer Str. 93"}})
    people = [
        await factory.person(party.leipzig["id"], postal_code="04105", last_name=name, **ADDRESS)
        for name in ("Zetkin", "Özdemir", "Bebel", "Bebel")
    ] + [
        await factory.person(party.dresden["id"], postal_code="01067", last_name=name, **ADDRESS)
        for name in ("Luxemburg", "Abendroth")
    ]
    for person in people:
        assert (await order(client, party, person, edition, 10)).status_code == 201
    url = api(party.root, f"/editions/{edition['id']}/pickup")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=party.admin.headers)).json()
        seen += [line["order_id"] for line in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    printed = await client.get(url + ".csv", headers=party.admin.headers)
    assert seen == [int(r["order_id"]) for r in csv.DictReader(io.StringIO(printed.text))]
    assert len(seen) == len(people)


async def test_shipping_thresholds_and_address_are_checked(client, factory, party, edition):
    homeless = await factory.person(party.dresden["id"], postal_code="01067")
    no_address = await order(client, party, homeless, edition, 20)
    assert no_address.status_code == 422
    assert no_address.json()["errors"][0]["field"] == "person_id"
    person = await factory.person(party.dresden["id"], postal_code="01067", **ADDRESS)
    too_few = await order(client, party, person, edition, 2)
    assert too_few.json()["errors"][0]["field"] == "quantity"
    too_many = await order(client, party, person, edition, 1001)
    assert too_many.status_code == 422


async def test_order_moves_to_distributed_and_report_shows_gaps(client, factory, party, edition):
    person = await factory.person(party.leipzig["id"], postal_code="04105", **ADDRESS)
    created = (await order(client, party, person, edition, 50)).json()
    url = api(party.root, f"/orders/{created['id']}")
    skip = await client.patch(url, json={"status": "delivered"}, headers=party.admin.headers)
    assert skip.status_code == 409
    for status in ("approved", "packed", "delivered"):
        moved = await client.patch(url, json={"status": status}, headers=party.admin.headers)
        assert moved.json()["status"] == status
    too_many = await client.patch(
        url,
        json={"status": "distributed", "distributed": 51, "postal_code": "04105"},
        headers=party.admin.headers,
    )
    assert too_many.json()["errors"][0]["field"] == "distributed"
    done = await client.patch(
        url,
        json={"status": "distributed", "distributed": 45, "postal_code": "04105"},
        headers=party.admin.headers,
    )
    assert done.json()["distributed"] == 45
    report = await client.get(api(party.state, "/distribution"), headers=party.admin.headers)
    units = {u["org_id"]: u for u in report.json()}
    leipzig = units[party.leipzig["id"]]
    assert leipzig["distributed"] == 45
    assert leipzig["postal_codes"] == [{"postal_code": "04105", "copies": 45}]
    assert "04105" not in leipzig["gaps"] and {"04103", "04155"} <= set(leipzig["gaps"])
    assert units[party.dresden["id"]]["gaps"] == ["01067", "01068", "01069"]


async def test_other_units_objects_are_404_and_people_outside_scope_refused(
    client, factory, party, edition
):
    other_root = await factory.org("Andere", kind="federal")
    await factory.enable(other_root["id"], "linksaktiv")
    stranger = await factory.person(other_root["id"], postal_code="04105", **ADDRESS)
    refused = await order(client, party, stranger, edition)
    assert refused.status_code == 422
    district_admin = await factory.user("admin", party.dresden["id"])
    hidden = await client.get(
        api(party.dresden, f"/editions/{edition['id']}"), headers=district_admin.headers
    )
    assert hidden.status_code == 404
    assert await db.fetch("SELECT id FROM linksaktiv_order") == []
