"""The retention rule (issue #22, item 6): consent now, not ever; unconfirmed public
sign-ups after days; former members after their own time; members never."""

from __future__ import annotations

from datetime import timedelta

from core import db
from core.people.retention import purge_candidates
from core.tables import utcnow


async def _aged(person_id: int, days: int) -> None:
    at = utcnow() - timedelta(days=days)
    await db.execute("UPDATE person SET updated_at = {} WHERE id = {}", at, person_id)
    await db.execute("UPDATE consent_event SET at = {} WHERE person_id = {}", at, person_id)


async def _consent(person_id: int, status: str, channel: str = "email") -> None:
    await db.execute(
        "INSERT INTO consent_event (person_id, channel, purpose, status, source, at) "
        "VALUES ({}, {}, 'general', {}, 'import', {})",
        person_id,
        channel,
        status,
        utcnow(),
    )


async def test_the_rule_reads_consent_now_and_each_kind_has_its_time(factory):
    org = await factory.org("Kreis")

    async def person(days: int, **fields) -> int:
        row = await factory.person(org["id"], **fields)
        return row["id"]

    withdrawn = await person(0, member_status="contact")
    await _consent(withdrawn, "granted")
    await _consent(withdrawn, "withdrawn")
    consenting = await person(0, member_status="contact")
    await _consent(consenting, "withdrawn")
    await _consent(consenting, "granted")
    pending_consent_only = await person(0, member_status="contact")
    await _consent(pending_consent_only, "granted", "phone")
    await _consent(pending_consent_only, "pending", "phone")  # no decision: still granted
    old_signup = await person(0, pending=True)
    new_signup = await person(0, pending=True)
    old_former = await person(0, member_status="former_member")
    new_former = await person(0, member_status="former_member")
    member = await person(0, member_status="member")
    for person_id in (withdrawn, consenting, pending_consent_only, old_former, member):
        await _aged(person_id, 3700)
    await _aged(old_signup, 31)
    await _aged(new_signup, 10)
    await _aged(new_former, 3000)

    now = utcnow()
    found = await purge_candidates(
        contacts_before=now - timedelta(days=30 * 24),
        pending_before=now - timedelta(days=30),
        former_members_before=now - timedelta(days=30 * 120),
    )
    assert found == sorted(
        [(withdrawn, "contact"), (old_signup, "pending"), (old_former, "former_member")]
    )
    kept_forever = await purge_candidates(
        contacts_before=now - timedelta(days=30 * 24),
        pending_before=now - timedelta(days=30),
        former_members_before=None,
    )
    assert (old_former, "former_member") not in kept_forever


async def test_an_organizer_can_confirm_a_pending_record(client, factory):
    org = await factory.org("Kreis")
    admin = await factory.user("admin", org["id"])
    signup = await factory.person(org["id"], pending=True)
    url = f"/api/orgs/{org['id']}/people/{signup['id']}"
    assert (await client.get(url, headers=admin.headers)).json()["pending"] is True
    patched = await client.patch(url, json={"pending": False}, headers=admin.headers)
    assert patched.status_code == 200, patched.text
    assert (await client.get(url, headers=admin.headers)).json()["pending"] is False
    refused = await client.patch(url, json={"pending": True}, headers=admin.headers)
    assert refused.status_code == 422
