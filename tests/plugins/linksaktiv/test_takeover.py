"""Issue #21, item 1, end to end over HTTP: a stranger who knows a member's phone number
joins with their own address and that number, confirms, and learns nothing, changes
nothing and erases nothing of the member."""

from __future__ import annotations

import pytest

from core import db
from tests.plugins.linksaktiv.conftest import run_jobs
from tests.plugins.linksaktiv.test_signup import JOIN, link_in, mails_to


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "http://testserver"}


SECRETS = ("Margot", "Geheimweg", "spendet monatlich", "+4934112345")


async def _member_snapshot(person_id: int) -> dict:
    return {
        "person": await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id),
        "phones": await db.fetch(
            "SELECT e164, valid FROM person_phone WHERE person_id = {}", person_id
        ),
        "consents": await db.fetch("SELECT * FROM consent_event WHERE person_id = {}", person_id),
        "activist": await db.fetch(
            "SELECT * FROM linksaktiv_activist WHERE person_id = {}", person_id
        ),
    }


async def test_a_stranger_with_a_members_phone_learns_and_changes_nothing(
    app, client, factory, party, smtp_sink
):
    member = await factory.person(
        party.leipzig["id"],
        first_name="Margot",
        last_name="Mitglied",
        street="Geheimweg 1",
        city="Leipzig",
        notes="spendet monatlich 50 Euro",
        phones=["+4934112345"],
    )
    before = await _member_snapshot(member["id"])
    stranger = JOIN | {"email": "fremd@example.org", "phone": "0341 12345"}
    joined = await client.post("/p/linksaktiv/api/join", json=stranger)
    assert joined.status_code == 202, joined.text
    assert await _member_snapshot(member["id"]) == before

    await run_jobs(app)
    [mail] = mails_to(smtp_sink, "fremd@example.org")
    confirmed = await client.get(link_in(mail, "confirm/"))
    assert confirmed.status_code == 200
    assert await _member_snapshot(member["id"]) == before
    start = confirmed.text.index("/p/linksaktiv/me?t=")
    me = confirmed.text[start : confirmed.text.index('"', start)].replace("&amp;", "&")
    page = await client.get(me)
    assert page.status_code == 200
    export = await client.get(me.replace("/me?", "/me/export?"))
    assert export.status_code == 200
    for secret in SECRETS[:3]:
        assert secret not in page.text and secret not in export.text
    token = me.split("t=")[1]
    gone = await client.post(
        "/p/linksaktiv/me", data={"t": token, "action": "delete", "sure": "yes"}
    )
    assert gone.status_code == 200
    assert await _member_snapshot(member["id"]) == before

    # the organizer sees the stranger's record as a possible duplicate of the member (phone)
    await client.post("/p/linksaktiv/api/join", json=stranger | {"email": "f2@example.org"})
    duplicates = await client.get(
        f"/api/orgs/{party.root['id']}/people/duplicates", headers=party.admin.headers
    )
    groups = [g for g in duplicates.json()["items"] if g["reason"] == "phone"]
    assert groups and member["id"] in groups[0]["person_ids"]
    [pending_id] = [pid for pid in groups[0]["person_ids"] if pid != member["id"]]
    shown = await client.get(
        f"/api/orgs/{party.root['id']}/people/{pending_id}", headers=party.admin.headers
    )
    assert shown.json()["pending"] is True


async def test_a_join_with_a_members_email_waits_for_the_owner_of_that_address(
    app, client, factory, party, smtp_sink
):
    member = await factory.person(
        party.dresden["id"], first_name="Margot", email="rosa@example.org", notes="geheim"
    )
    before = await _member_snapshot(member["id"])
    joined = await client.post("/p/linksaktiv/api/join", json=JOIN | {"phone": "0351 999"})
    assert joined.status_code == 202
    assert await _member_snapshot(member["id"]) == before
    # only the owner of the address gets the link; following it makes them one record
    await run_jobs(app)
    [mail] = mails_to(smtp_sink, "rosa@example.org")
    assert (await client.get(link_in(mail, "confirm/"))).status_code == 200
    rows = await db.fetch("SELECT id, home_org_id, notes FROM person")
    assert rows == [{"id": member["id"], "home_org_id": party.dresden["id"], "notes": "geheim"}]
    activist = await db.fetch_one(
        "SELECT status FROM linksaktiv_activist WHERE person_id = {}", member["id"]
    )
    assert activist["status"] == "confirmed"
