"""The console's duplicate and merge pages over HTTP (issue #24): groups of likely duplicates
(each page audited), two people side by side with a choice per differing field, the merge
through the same service as the API (which audits it itself), 404 across units."""

from __future__ import annotations

import re

from core import db
from core.audit.services import flush_list_reads
from tests.core.console.helpers import console_login, csrf_of


async def _organizer(factory, client, role="organizer"):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    user = await factory.user(role, leipzig["id"])
    await console_login(client, user.email)
    return leipzig, dresden, user


async def test_duplicates_are_listed_and_audited(app, client, factory):
    leipzig, dresden, user = await _organizer(factory, client)
    rosa = await factory.person(
        leipzig["id"], first_name="Rosa", last_name="Rot", email="rosa@example.org"
    )
    twin = await factory.person(
        leipzig["id"], first_name="R.", last_name="Rot", email="rosa@example.org"
    )
    await factory.person(dresden["id"], first_name="Fremd", email="rosa@example.org")
    people = await client.get(f"/app/orgs/{leipzig['id']}/people")
    assert 'href="people/duplicates"' in people.text
    page = await client.get(f"/app/orgs/{leipzig['id']}/people/duplicates")
    assert page.status_code == 200
    assert "Gleiche E-Mail-Adresse" in page.text and "rosa@example.org" in page.text
    assert "Fremd" not in page.text  # another district
    assert f"merge?ids={rosa['id']}%2C{twin['id']}" in page.text
    await flush_list_reads(app)
    rows = await db.fetch(
        "SELECT user_id, detail FROM audit_log WHERE action = 'people.duplicates_listed'"
    )
    assert len(rows) == 1 and rows[0]["user_id"] == user.id
    assert db.json_value(rows[0]["detail"]) == {"people": [rosa["id"], twin["id"]]}


async def test_side_by_side_choice_per_differing_field_and_merge(client, factory):
    leipzig, _dresden, user = await _organizer(factory, client)
    rosa = await factory.person(
        leipzig["id"],
        first_name="Rosa",
        last_name="Rot",
        email="rosa@example.org",
        phones=["+4934111111"],
    )
    twin = await factory.person(
        leipzig["id"],
        first_name="Rosalie",
        last_name="Rot",
        email="rosa@example.org",
        city="Leipzig",
        phones=["+4934122222"],
        member_status="member",
    )
    base = f"/app/orgs/{leipzig['id']}/people"
    page = await client.get(f"{base}/merge", params={"ids": f"{rosa['id']},{twin['id']}"})
    assert page.status_code == 200
    # a choice only where the two differ; the first person's value unless it is empty
    assert re.search(rf'name="keep-first_name" value="{rosa["id"]}" checked', page.text)
    assert re.search(rf'name="keep-city" value="{twin["id"]}" checked', page.text)
    assert 'name="keep-last_name"' not in page.text and 'name="keep-email"' not in page.text
    assert "vereinigt" in page.text  # tags, phones and consents are united: said so
    reads = await db.fetch("SELECT object_id FROM audit_log WHERE action = 'person.read'")
    assert {r["object_id"] for r in reads} == {rosa["id"], twin["id"]}

    merged = await client.post(
        f"{base}/merge",
        data={
            "_csrf": csrf_of(page.text),
            "ids": f"{rosa['id']},{twin['id']}",
            "keep-first_name": str(twin["id"]),
            "keep-city": str(twin["id"]),
            "keep-member_status": str(rosa["id"]),
        },
    )
    assert merged.status_code == 303 and merged.headers["location"] == f"{base}/{rosa['id']}"
    kept = await db.fetch_one(
        "SELECT first_name, city, member_status FROM person WHERE id = {}", rosa["id"]
    )
    assert kept == {"first_name": "Rosalie", "city": "Leipzig", "member_status": "contact"}
    assert await db.fetch_one("SELECT id FROM person WHERE id = {}", twin["id"]) is None
    phones = await db.fetch(
        "SELECT e164 FROM person_phone WHERE person_id = {} ORDER BY position", rosa["id"]
    )
    assert [p["e164"] for p in phones] == ["+4934111111", "+4934122222"]
    audit = await db.fetch(
        "SELECT user_id, org_id, object_id FROM audit_log WHERE action = 'person.merged'"
    )
    assert audit == [{"user_id": user.id, "org_id": leipzig["id"], "object_id": rosa["id"]}]


async def test_people_of_another_unit_cannot_be_compared_or_merged(client, factory):
    leipzig, dresden, _user = await _organizer(factory, client)
    rosa = await factory.person(leipzig["id"], first_name="Rosa")
    stranger = await factory.person(dresden["id"], first_name="Fremd")
    base = f"/app/orgs/{leipzig['id']}/people"
    ids = f"{rosa['id']},{stranger['id']}"
    page = await client.get(f"{base}/merge", params={"ids": ids})
    assert page.status_code == 404 and "Fremd" not in page.text
    people = await client.get(base)
    refused = await client.post(f"{base}/merge", data={"_csrf": csrf_of(people.text), "ids": ids})
    assert refused.status_code == 422
    assert await db.fetch_one("SELECT id FROM person WHERE id = {}", stranger["id"])
    alone = await client.get(f"{base}/merge", params={"ids": str(rosa["id"])})
    assert alone.status_code == 422 and "zwei oder mehr" in alone.text


async def test_a_viewer_may_not_merge(client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client, role="viewer")
    base = f"/app/orgs/{leipzig['id']}/people"
    assert (await client.get(f"{base}/duplicates")).status_code == 403
    assert (await client.get(f"{base}/merge", params={"ids": "1,2"})).status_code == 403
    assert 'href="people/duplicates"' not in (await client.get(base)).text
