"""The newspaper console over HTTP (issue #27 item 5): editions, orders by state with bulk
moves (one audited call, all or none, invalid moves refused), the printable pickup lists,
the shipping list as CSV and XLSX (formula-safe), the distribution report with its coverage
gaps; 404 across units, permissions."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from openpyxl import load_workbook

from core import db
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.linksaktiv.conftest import api
from tests.plugins.linksaktiv.test_list_audit import _details as audited

ADDRESS = {"street": "Hauptstraße 1", "city": "Ort"}


def _base(unit) -> str:
    return f"/app/orgs/{unit['id']}/linksaktiv/newspapers"


async def _as(client, user) -> None:
    client.cookies.clear()
    await console_login(client, user.email)
    client.cookies.set("orga_lang", "en")


async def _post(client, url: str, page_url: str, pairs: list[tuple[str, str]]):
    page = await client.get(page_url)
    return await client.post(
        url,
        content=urlencode([("_csrf", csrf_of(page.text)), *pairs]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def _edition(client, party, unit=None) -> int:
    unit = unit or party.root
    made = await client.post(
        api(unit, "/editions"),
        json={"title": "Zeitung 7", "date": "2026-12-01", "copies": 1000, "bundle_size": 25},
        headers=party.admin.headers,
    )
    return made.json()["id"]


async def _order(client, party, person, edition_id, quantity=30, unit=None) -> int:
    made = await client.post(
        api(unit or party.root, "/orders"),
        json={"person_id": person["id"], "edition_id": edition_id, "quantity": quantity},
        headers=party.admin.headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_create_an_edition_errors_beside_the_fields(client, factory, party):
    organizer = await factory.user("organizer", party.state["id"])
    await _as(client, organizer)
    base = _base(party.state)
    listed = await client.get(base)
    assert listed.status_code == 200 and "No editions yet." in listed.text
    empty = await _post(client, base, base, [("title", ""), ("date", "2026-12-01")])
    assert empty.status_code == 422
    assert 'id="f-title-error"' in empty.text and 'id="f-copies-error"' in empty.text
    assert 'value="2026-12-01"' in empty.text
    for field, value in (("date", "2026-13-01"), ("copies", "0"), ("bundle_size", "x")):
        pairs = {"title": "T", "date": "2026-12-01", "copies": "10", field: value}
        bad = await _post(client, base, base, list(pairs.items()))
        assert bad.status_code == 422 and f'id="f-{field}-error"' in bad.text, field
    assert await db.fetch("SELECT id FROM linksaktiv_edition") == []
    made = await _post(
        client,
        base,
        base,
        [("title", "Dezember"), ("date", "2026-12-01"), ("copies", "500"), ("bundle_size", "50")],
    )
    assert made.status_code == 303
    edition = await db.fetch_one("SELECT id, org_id, copies, bundle_size FROM linksaktiv_edition")
    assert made.headers["location"] == f"{base}/{edition['id']}"
    assert (edition["org_id"], edition["copies"], edition["bundle_size"]) == (
        party.state["id"],
        500,
        50,
    )
    assert "Dezember" in (await client.get(base)).text


async def test_bulk_moves_one_audited_step_and_invalid_moves_are_refused(client, factory, party):
    edition = await _edition(client, party)
    people = [
        await factory.person(party.leipzig["id"], postal_code="04105", last_name=n, **ADDRESS)
        for n in ("Bebel", "Zetkin", "Luxemburg")
    ]
    orders = [await _order(client, party, p, edition) for p in people]
    organizer = await factory.user("organizer", party.root["id"])
    await _as(client, organizer)
    page_url = f"{_base(party.root)}/{edition}"
    new = await client.get(page_url)
    assert new.status_code == 200
    assert all(f'name="orders" value="{o}"' in new.text for o in orders)
    assert "Zetkin" in new.text and 'value="approved"' in new.text
    move = f"{page_url}/orders"

    approved = await _post(
        client,
        move,
        page_url,
        [
            ("orders", str(orders[0])),
            ("orders", str(orders[1])),
            ("move", "approved"),
            ("shown", "requested"),
        ],
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == f"{page_url}?status=requested"
    states = {
        r["id"]: r["status"] for r in await db.fetch("SELECT id, status FROM linksaktiv_order")
    }
    assert states == {orders[0]: "approved", orders[1]: "approved", orders[2]: "requested"}
    [audit] = await db.fetch(
        "SELECT user_id, object_id, detail FROM audit_log WHERE action = 'linksaktiv.orders_moved'"
    )
    assert audit["user_id"] == organizer.id and audit["object_id"] == edition
    assert db.json_value(audit["detail"]) == {"orders": orders[:2], "status": "approved"}

    # one order cannot be packed before it is approved: nothing moves, the page says which
    refused = await _post(
        client,
        move,
        page_url,
        [
            ("orders", str(orders[0])),
            ("orders", str(orders[2])),
            ("move", "packed"),
            ("shown", "approved"),
        ],
    )
    assert refused.status_code == 409
    assert f"#{orders[2]}" in refused.text and 'role="alert"' in refused.text
    states = {
        r["id"]: r["status"] for r in await db.fetch("SELECT id, status FROM linksaktiv_order")
    }
    assert states[orders[0]] == "approved" and states[orders[2]] == "requested"
    none = await _post(client, move, page_url, [("move", "packed"), ("shown", "approved")])
    assert none.status_code == 422
    distributed = await _post(
        client, move, page_url, [("orders", str(orders[0])), ("move", "distributed")]
    )
    assert distributed.status_code == 422
    packed = await _post(client, move, page_url, [("orders", str(orders[0])), ("move", "packed")])
    assert packed.status_code == 303
    tab = await client.get(f"{page_url}?status=packed")
    assert "Bebel" in tab.text and "Zetkin" not in tab.text
    assert (
        len(await db.fetch("SELECT id FROM audit_log WHERE action = 'linksaktiv.orders_moved'"))
        == 2
    )


async def test_pickup_list_shipping_downloads_and_distribution_report(app, client, factory, party):
    edition = await _edition(client, party)
    pickup_people = [
        await factory.person(party.leipzig["id"], postal_code="04105", last_name=n, **ADDRESS)
        for n in ("Zetkin", "Bebel")
    ]
    for person in pickup_people:
        await _order(client, party, person, edition, 20)
    shipped = await factory.person(
        party.dresden["id"], postal_code="01067", last_name="=HYPERLINK(1)", **ADDRESS
    )
    shipping = await _order(client, party, shipped, edition, 40)
    organizer = await factory.user("organizer", party.root["id"])
    await _as(client, organizer)
    page_url = f"{_base(party.root)}/{edition}"

    lists = await client.get(f"{page_url}/pickup")
    assert lists.status_code == 200
    text = lists.text
    assert "KV Leipzig" in text and "Braustraße 15" in text and "Mo-Fr 10-18" in text
    assert text.index("Bebel") < text.index("Zetkin") and "=HYPERLINK" not in text
    printed = await client.get(f"{page_url}/pickup.csv")
    rows = list(csv.DictReader(io.StringIO(printed.text)))
    assert [r["last_name"] for r in rows] == ["Bebel", "Zetkin"]
    listed = await audited(app, "linksaktiv.pickup_listed", expected=2)
    assert [sorted(r["detail"]["people"]) for r in listed] == [
        sorted(p["id"] for p in pickup_people)
    ] * 2

    sheet = await client.get(f"{page_url}/shipping.csv")
    assert sheet.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(sheet.text)))
    assert (row["order_id"], row["last_name"], row["bundles"]) == (
        str(shipping),
        "'=HYPERLINK(1)",
        "2",
    )
    book = await client.get(f"{page_url}/shipping.xlsx")
    assert book.headers["content-disposition"].endswith('.xlsx"')
    cells = list(load_workbook(io.BytesIO(book.content), read_only=True).active.values)
    assert cells[0][0] == "order_id" and cells[1][3] == "'=HYPERLINK(1)"
    exported = await audited(app, "linksaktiv.shipping_exported", expected=2)
    assert [e["detail"]["people"] for e in exported] == [[shipped["id"]]] * 2

    # distributed in 04105: the report counts it there, the other Leipzig codes are gaps
    await db.execute(
        "UPDATE linksaktiv_order SET status = 'distributed', distributed = 15, "
        "distributed_postal_code = '04105' WHERE person_id = {}",
        pickup_people[0]["id"],
    )
    report = await client.get(f"{_base(party.root)}/report")
    assert report.status_code == 200
    assert "04105 (15)" in report.text
    gaps = report.text.split('id="h-gaps"', 1)[1]
    assert "04103, 04104, 04106" in gaps and "04105," not in gaps
    assert "01067, 01068, 01069" in gaps
    other = await _edition(client, party)
    per_edition = await client.get(f"{_base(party.root)}/report?edition_id={other}")
    assert "04105 (15)" not in per_edition.text and "04105" in per_edition.text


async def test_404_across_units_and_permissions(client, factory, party):
    edition = await _edition(client, party, party.leipzig)
    person = await factory.person(party.leipzig["id"], postal_code="04105", **ADDRESS)
    order = await _order(client, party, person, edition, unit=party.leipzig)
    dresden = await factory.user("organizer", party.dresden["id"])
    await _as(client, dresden)
    foreign = f"{_base(party.dresden)}/{edition}"
    for path in ("", "/pickup", "/pickup.csv", "/shipping.csv", "/shipping.xlsx"):
        assert (await client.get(foreign + path)).status_code == 404, path
    assert (await client.get(f"{_base(party.leipzig)}/{edition}")).status_code == 404
    # an order of another unit's edition cannot be moved through one's own edition
    own = await _edition(client, party, party.dresden)
    moved = await _post(
        client,
        f"{_base(party.dresden)}/{own}/orders",
        _base(party.dresden),
        [("orders", str(order)), ("move", "approved")],
    )
    assert moved.status_code == 404
    assert (await db.fetch_one("SELECT status FROM linksaktiv_order"))["status"] == "requested"
    # viewers and callers hold neither linksaktiv.view nor linksaktiv.manage
    for role in ("viewer", "caller"):
        user = await factory.user(role, party.leipzig["id"])
        await _as(client, user)
        start = await client.get(f"/app/orgs/{party.leipzig['id']}")
        assert "/linksaktiv/newspapers" not in start.text
        for path in ("", "/report", f"/{edition}", f"/{edition}/pickup"):
            assert (await client.get(_base(party.leipzig) + path)).status_code == 403
    organizer = await factory.user("organizer", party.leipzig["id"])
    await _as(client, organizer)
    start = await client.get(f"/app/orgs/{party.leipzig['id']}")
    assert f'href="{_base(party.leipzig)}"' in start.text
