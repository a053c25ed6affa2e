"""The public join files people only into units where linksaktiv is on (issue 21, item 13)."""

from __future__ import annotations

import pytest

from core import db
from core.orgs.services import set_module
from tests.plugins.linksaktiv.conftest import api

JOIN = {
    "first_name": "Rosa",
    "last_name": "Lux",
    "email": "rosa@example.org",
    "postal_code": "04105",
    "consent": True,
    "consent_wording": "Ja, informiert mich.",
}
FORM = {
    "first_name": "Karl",
    "last_name": "L",
    "email": "karl@example.org",
    "postal_code": "01067",
    "consent": "yes",
}


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "http://testserver"}


async def _homes() -> dict[str, int]:
    rows = await db.fetch("SELECT email, home_org_id FROM person")
    return {r["email"]: r["home_org_id"] for r in rows}


async def test_join_walks_up_to_the_nearest_unit_where_linksaktiv_is_on(client, party):
    # on at the federal level, off for Saxony, on again for Leipzig
    await set_module(party.state["id"], "linksaktiv", False)
    await set_module(party.leipzig["id"], "linksaktiv", True)
    leipzig = await client.post("/p/linksaktiv/api/join", json=JOIN)
    assert leipzig.status_code == 202, leipzig.text
    # 01067 is Dresden's, where linksaktiv is off (from Saxony): Saxony is off too, so the
    # sign-up goes to the federal level
    dresden = await client.post(
        "/p/linksaktiv/api/join", json=JOIN | {"email": "k@example.org", "postal_code": "01067"}
    )
    assert dresden.status_code == 202, dresden.text
    assert await _homes() == {
        "rosa@example.org": party.leipzig["id"],
        "k@example.org": party.root["id"],
    }


async def test_a_signed_link_of_a_unit_where_linksaktiv_is_off_goes_up_too(client, party):
    link = await client.get(api(party.dresden, "/join-link"), headers=party.admin.headers)
    ref = link.json()["url"].split("ref=")[1]
    await set_module(party.dresden["id"], "linksaktiv", False)
    response = await client.post(
        "/p/linksaktiv/api/join", json=JOIN | {"postal_code": "99999", "ref": ref}
    )
    assert response.status_code == 202, response.text
    # no unit covers 99999; the link's unit is off, its parent Saxony on (from the top)
    assert await _homes() == {"rosa@example.org": party.state["id"]}


async def test_join_answers_404_where_linksaktiv_is_off_all_the_way_up(client, party):
    await set_module(party.root["id"], "linksaktiv", False)
    response = await client.post("/p/linksaktiv/api/join", json=JOIN)
    assert response.status_code == 404, response.text
    assert response.json()["type"].endswith("module-disabled")
    form = await client.post("/p/linksaktiv/join", data=FORM, headers={"accept-language": "en"})
    assert form.status_code == 404
    assert "Sign-ups are not taken here" in form.text
    page = await client.get("/p/linksaktiv/join")
    assert page.status_code == 404
    assert await db.fetch("SELECT id FROM person") == []
    assert await db.fetch("SELECT id FROM linksaktiv_activist") == []
    # switched on for one district only: the plain form is back, and takes that district's
    # codes, but not another's
    await set_module(party.dresden["id"], "linksaktiv", True)
    assert (await client.get("/p/linksaktiv/join")).status_code == 200
    assert (await client.post("/p/linksaktiv/api/join", json=JOIN)).status_code == 404
    dresden = await client.post("/p/linksaktiv/join", data=FORM)
    assert dresden.status_code == 200, dresden.text
    assert await _homes() == {"karl@example.org": party.dresden["id"]}
