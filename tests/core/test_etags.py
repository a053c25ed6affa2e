"""ETag and If-Match: two organizers cannot overwrite each other's change of a person."""

from __future__ import annotations

import asyncio

import pytest

from core import db
from core.api import add_tags, record_consent
from core.people.schemas import ConsentIn
from tests.etags import PRECONDITION_FAILED, two_organizers


@pytest.fixture
async def unit(client, factory):
    root = await factory.org("Bund", kind="federal")
    kv = await factory.org("KV A", parent=root["id"])
    other = await factory.org("KV B", parent=root["id"])
    return {"root": root["id"], "kv": kv["id"], "other": other["id"]}


async def _person(client, factory, unit):
    person = await factory.person(unit["kv"], first_name="Rosa", city="Leipzig")
    return f"/api/orgs/{unit['kv']}/people/{person['id']}", person


async def test_second_organizer_with_a_stale_etag_gets_412_and_the_first_change_stays(
    client, factory, unit
):
    url, _ = await _person(client, factory, unit)
    anna = await factory.user("admin", unit["kv"])
    ben = await factory.user("admin", unit["root"])
    after = await two_organizers(
        client, url, (anna, {"city": "Halle"}), (ben, {"city": "Dresden", "tags": ["x"]})
    )
    assert after["city"] == "Halle" and after["tags"] == []


async def test_patch_without_if_match_still_writes_and_answers_the_new_etag(client, factory, unit):
    url, _ = await _person(client, factory, unit)
    admin = await factory.user("admin", unit["kv"])
    before = await client.get(url, headers=admin.headers)
    changed = await client.patch(url, json={"city": "Halle"}, headers=admin.headers)
    assert changed.status_code == 200 and changed.json()["city"] == "Halle"
    assert changed.headers["etag"] != before.headers["etag"]
    assert (await client.get(url, headers=admin.headers)).headers["etag"] == changed.headers["etag"]


async def test_every_kind_of_change_gives_the_person_a_new_etag(client, factory, unit):
    """Lists kept in other tables and writes that bypass the people service (a module's raw
    SQL, a tag added by a module, a consent event) all make the ETag stale."""
    url, person = await _person(client, factory, unit)
    admin = await factory.user("admin", unit["kv"])

    async def etag() -> str:
        return (await client.get(url, headers=admin.headers)).headers["etag"]

    seen = [await etag()]
    for body in ({"tags": ["kiez"]}, {"phones": ["+4930123456"]}):
        response = await client.patch(
            url, json=body, headers={**admin.headers, "If-Match": seen[-1]}
        )
        assert response.status_code == 200, response.text
        seen.append(await etag())
    await db.execute("UPDATE person SET notes = {} WHERE id = {}", "von Hand", person["id"])
    seen.append(await etag())
    await add_tags(person["id"], unit["kv"], f"/{unit['root']}/{unit['kv']}/", ["neu"])
    seen.append(await etag())
    await record_consent(person["id"], ConsentIn(channel="email", status="granted", source="test"))
    seen.append(await etag())
    assert len(set(seen)) == len(seen), seen


async def test_if_match_star_a_list_and_weak_tags(client, factory, unit):
    url, _ = await _person(client, factory, unit)
    admin = await factory.user("admin", unit["kv"])
    current = (await client.get(url, headers=admin.headers)).headers["etag"]
    listed = await client.patch(
        url, json={"city": "A"}, headers={**admin.headers, "If-Match": f'"nope", {current}'}
    )
    assert listed.status_code == 200, listed.text
    star = await client.patch(url, json={"city": "B"}, headers={**admin.headers, "If-Match": "*"})
    assert star.status_code == 200, star.text
    weak = await client.patch(
        url,
        json={"city": "C"},
        headers={**admin.headers, "If-Match": "W/" + star.headers["etag"]},
    )
    assert weak.status_code == 412  # If-Match compares strongly: a weak tag never matches
    assert (await client.get(url, headers=admin.headers)).json()["city"] == "B"


async def test_concurrent_writers_holding_one_etag_exactly_one_wins(client, factory, unit):
    url, _ = await _person(client, factory, unit)
    admin = await factory.user("admin", unit["kv"])
    etag = (await client.get(url, headers=admin.headers)).headers["etag"]
    answers = await asyncio.gather(
        *(
            client.patch(url, json={"city": city}, headers={**admin.headers, "If-Match": etag})
            for city in ("Halle", "Dresden", "Jena", "Gera")
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 412, 412, 412], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()["city"]
    assert (await client.get(url, headers=admin.headers)).json()["city"] == winner


async def test_a_person_out_of_scope_is_404_whatever_if_match_says(client, factory, unit):
    url, _ = await _person(client, factory, unit)
    outsider = await factory.user("admin", unit["other"])
    response = await client.patch(
        url.replace(f"/orgs/{unit['kv']}/", f"/orgs/{unit['other']}/"),
        json={"city": "X"},
        headers={**outsider.headers, "If-Match": '"stale"'},
    )
    assert response.status_code == 404
    assert response.json()["type"] != PRECONDITION_FAILED


async def test_the_spec_documents_if_match_etag_and_412(client):
    spec = (await client.get("/schema/openapi.json")).json()
    operation = spec["paths"]["/api/orgs/{org_id}/people/{person_id}"]
    assert "ETag" in operation["get"]["responses"]["200"]["headers"]
    patch = operation["patch"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert "412" in patch["responses"] and "ETag" in patch["responses"]["200"]["headers"]
