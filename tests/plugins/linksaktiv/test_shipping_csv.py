"""The shipping CSV holds every address exactly, whatever characters it has."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import db
from core.api import safe_cell
from plugins.linksaktiv.orders import shipping_rows
from tests.plugins.linksaktiv.conftest import api

text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
people = st.lists(
    st.tuples(text, text, text, st.integers(min_value=10, max_value=500)), min_size=1, max_size=8
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=people)
async def test_csv_round_trips_names_and_addresses(client, factory, party, rows):
    edition = (
        await client.post(
            api(party.root, "/editions"),
            json={"title": 'Zeitung, "Nr. 1"', "date": "2026-12-01", "copies": 10_000},
            headers=party.admin.headers,
        )
    ).json()
    expected = {}
    for first, street, city, quantity in rows:
        person = await factory.person(
            party.dresden["id"],
            first_name=first,
            last_name="Test",
            street=street,
            city=city,
            postal_code="01067",
        )
        created = await client.post(
            api(party.root, "/orders"),
            json={"person_id": person["id"], "edition_id": edition["id"], "quantity": quantity},
            headers=party.admin.headers,
        )
        assert created.status_code == 201, created.text
        expected[created.json()["id"]] = (
            safe_cell(first),
            safe_cell(street),
            safe_cell(city),
            str(quantity),
        )
    chunks = [chunk async for chunk in shipping_rows(party.root["id"], edition["id"], [], batch=3)]
    parsed = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    got = {
        int(r["order_id"]): (r["first_name"], r["street"], r["city"], r["copies"]) for r in parsed
    }
    assert got == expected
    assert all(not v[0].startswith(("=", "+", "-", "@")) for v in got.values())
    await db.execute("DELETE FROM linksaktiv_order")
