"""Public forms never hand over an existing record (issue #21, item 1), and signed links die
with their person (item 2): core's pending people, confirmation and link keys."""

from __future__ import annotations

import pytest

from core import db
from core.api import (
    BadToken,
    ConsentIn,
    confirm_person,
    contactable_sql,
    create_pending_person,
    current_runtime,
    open_person_token,
    person_token,
)
from core.context import set_runtime
from core.people.consent import current_consents


@pytest.fixture(autouse=True)
async def runtime(app, client):
    """Service calls below sign links: they need the running app's runtime (its key)."""
    set_runtime(app.state.orga)


FORM_CONSENT = ConsentIn(channel="email", status="granted", source="web_form", wording="Ja")


async def _pending(org_id: int, **fields) -> int:
    values = {
        "home_org_id": org_id,
        "first_name": "Fremd",
        "last_name": "Person",
        "email": "fremd@example.org",
        "phone": None,
        "region": "DE",
        "source": "web_form",
        "consents": [FORM_CONSENT],
    }
    values.update(fields)
    async with db.transaction():
        return await create_pending_person(**values)


async def _row(person_id: int) -> dict | None:
    return await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)


async def _contactable(person_id: int, channel: str) -> bool:
    row = await db.fetch_one(
        f"SELECT {contactable_sql(channel)} AS ok FROM person p WHERE p.id = {{}}", person_id
    )
    return bool(row["ok"])


async def test_a_form_with_a_members_email_and_phone_changes_nothing_of_theirs(factory):
    org = await factory.org("Kreis")
    member = await factory.person(
        org["id"], first_name="Mitglied", email="m@example.org", phones=["+49301234567"]
    )
    before = await _row(member["id"])
    stranger = await _pending(org["id"], email="M@Example.org", phone="030 1234567")
    assert stranger != member["id"]
    assert await _row(member["id"]) == before
    row = await _row(stranger)
    assert row["pending"] and row["email"] == "m@example.org"
    # the form's consent is stored, but as pending: it grants nothing
    [consent] = (await current_consents([stranger]))[stranger]
    assert consent.status == "pending"
    assert not await _contactable(stranger, "email")
    assert await db.fetch("SELECT * FROM consent_event WHERE person_id = {}", member["id"]) == []


async def test_confirming_by_mail_merges_into_the_owner_of_the_address(factory):
    org = await factory.org("Kreis")
    member = await factory.person(org["id"], first_name="Mitglied", email="m@example.org")
    pending = await _pending(org["id"], email="m@example.org", phone="030 7654321")
    token = await person_token("test.link", pending, 7)
    async with db.transaction():
        kept = await confirm_person(pending, current_runtime().registry, "test:confirm")
    assert kept == member["id"]
    assert await _row(pending) is None
    phones = await db.fetch("SELECT e164 FROM person_phone WHERE person_id = {}", kept)
    assert [p["e164"] for p in phones] == ["+49307654321"]
    assert await _contactable(kept, "email")
    # the link mailed to the pending record now opens the kept person (same human)
    assert await open_person_token("test.link", token) == (kept, 7)
    # confirming again changes nothing
    async with db.transaction():
        assert await confirm_person(kept, current_runtime().registry, "again") == kept


async def test_confirming_without_an_owner_keeps_the_record_and_its_phone_consent_pending(
    factory,
):
    org = await factory.org("Kreis")
    phone_consent = ConsentIn(channel="phone", status="granted", source="web_form")
    pending = await _pending(org["id"], phone="030 1111111", consents=[FORM_CONSENT, phone_consent])
    async with db.transaction():
        assert await confirm_person(pending, current_runtime().registry, "x") == pending
    assert not (await _row(pending))["pending"]
    assert await _contactable(pending, "email")
    assert not await _contactable(pending, "phone")  # the phone's owner confirmed nothing


async def test_a_pending_consent_never_hides_an_earlier_decision(factory):
    org = await factory.org("Kreis")
    member = await factory.person(org["id"], email="m@example.org")
    await db.execute(
        "INSERT INTO consent_event (person_id, channel, purpose, status, source, at) "
        "VALUES ({}, 'phone', 'general', 'granted', 'import', CURRENT_TIMESTAMP)",
        member["id"],
    )
    phone_consent = ConsentIn(channel="phone", status="granted", source="web_form")
    pending = await _pending(org["id"], email="m@example.org", consents=[phone_consent])
    async with db.transaction():
        kept = await confirm_person(pending, current_runtime().registry, "x")
    assert kept == member["id"]
    assert await _contactable(kept, "phone")
    [consent] = (await current_consents([kept]))[kept]
    assert (consent.channel, consent.status) == ("phone", "granted")


async def test_links_die_with_erasure_and_with_a_new_email_address(client, factory):
    org = await factory.org("Kreis")
    admin = await factory.user("admin", org["id"])
    person = await factory.person(org["id"], email="a@example.org")
    first = await person_token("test.link", person["id"])
    assert (await open_person_token("test.link", first))[0] == person["id"]
    changed = await client.patch(
        f"/api/orgs/{org['id']}/people/{person['id']}",
        json={"email": "b@example.org"},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    with pytest.raises(BadToken):
        await open_person_token("test.link", first)
    second = await person_token("test.link", person["id"])
    assert (await open_person_token("test.link", second))[0] == person["id"]
    erased = await client.delete(
        f"/api/orgs/{org['id']}/people/{person['id']}", headers=admin.headers
    )
    assert erased.status_code in (200, 204), erased.text
    with pytest.raises(BadToken):
        await open_person_token("test.link", second)


async def test_the_id_of_an_erased_person_is_never_given_again(client, factory):
    org = await factory.org("Kreis")
    admin = await factory.user("admin", org["id"])
    people = f"/api/orgs/{org['id']}/people"
    made = await client.post(people, json={"first_name": "Erst"}, headers=admin.headers)
    first_id = made.json()["id"]
    await client.delete(f"{people}/{first_id}", headers=admin.headers)
    again = await client.post(people, json={"first_name": "Zweit"}, headers=admin.headers)
    assert again.json()["id"] > first_id
    # the import takes ids past every id ever given too
    top = again.json()["id"]
    await client.delete(f"{people}/{top}", headers=admin.headers)
    from core.people.imports import _new_ids

    async with db.transaction():
        assert min(await _new_ids(2)) > top
