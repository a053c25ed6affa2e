"""Volunteer referrals: to the home unit's campaign leaders, else the next unit up; reminders."""

from __future__ import annotations

import pytest

from core import db
from core.api import person_token
from core.context import set_runtime
from core.tables import utcnow
from plugins.linksaktiv.signup import CONFIRM_PURPOSE
from tests.plugins.linksaktiv.conftest import api, run_jobs


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


def recipients(smtp_sink) -> list[tuple[str, str]]:
    return [(str(m["To"]), str(m["Subject"])) for m in smtp_sink.messages]


async def volunteer(app, client, email: str, postal_code: str, help_: list[str]) -> int:
    response = await client.post(
        "/p/linksaktiv/api/join",
        json={
            "first_name": "Vol",
            "last_name": "Unteer",
            "email": email,
            "postal_code": postal_code,
            "help": help_,
            "consent": True,
            "consent_wording": "Ja",
        },
    )
    assert response.status_code == 202, response.text
    person = await db.fetch_one("SELECT id FROM person WHERE email = {}", email)
    set_runtime(app.state.orga)
    token = await person_token(CONFIRM_PURPOSE, person["id"])
    await client.get(f"/p/linksaktiv/confirm/{token}")
    return person["id"]


async def test_referral_goes_up_the_tree_when_a_unit_has_no_leaders(
    app, client, factory, party, smtp_sink
):
    leader = await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    leipzig_person = await volunteer(app, client, "a@example.org", "04105", ["doors"])
    dresden_person = await volunteer(app, client, "b@example.org", "01067", ["phone"])
    await volunteer(app, client, "c@example.org", "01067", ["online"])  # no campaign help
    referrals = {
        r["person_id"]: r["org_id"]
        for r in await db.fetch("SELECT person_id, org_id FROM linksaktiv_referral")
    }
    # Dresden and Saxony have nobody holding linksaktiv.referrals: the federal team gets it
    assert referrals == {leipzig_person: party.leipzig["id"], dresden_person: party.root["id"]}
    await run_jobs(app)
    sent = recipients(smtp_sink)
    assert any(to == leader.email and "KV Leipzig" in subject for to, subject in sent)
    assert any(to == party.admin.email and "Bund" in subject for to, subject in sent)
    listed = await client.get(api(party.leipzig, "/referrals"), headers=leader.headers)
    [item] = listed.json()["items"]
    assert item["person_id"] == leipzig_person and item["status"] == "new"
    hidden = await client.get(api(party.root, "/referrals"), headers=leader.headers)
    assert hidden.status_code == 404


async def test_reminder_only_when_nobody_reacted(app, client, factory, party, smtp_sink):
    leader = await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    await volunteer(app, client, "a@example.org", "04105", ["doors"])
    await volunteer(app, client, "b@example.org", "04107", ["info_stand"])
    await run_jobs(app)
    first, second = await db.fetch("SELECT id FROM linksaktiv_referral ORDER BY id")
    contacted = await client.patch(
        api(party.leipzig, f"/referrals/{first['id']}"),
        json={"status": "contacted"},
        headers=leader.headers,
    )
    assert contacted.json()["status"] == "contacted"
    smtp_sink.raw.clear()
    await db.execute(
        "UPDATE job SET run_at = {} WHERE kind = 'linksaktiv.referral_remind'", utcnow()
    )
    await run_jobs(app)
    reminders = [s for to, s in recipients(smtp_sink) if "Erinnerung" in s and to == leader.email]
    assert len(reminders) == 1
    row = await db.fetch_one(
        "SELECT reminded_at FROM linksaktiv_referral WHERE id = {}", second["id"]
    )
    assert row["reminded_at"] is not None


@pytest.mark.parametrize("cursor", ["²", "9" * 30, "-1", "x"])
async def test_a_cursor_not_of_the_list_is_a_422_naming_it(client, party, cursor):
    """Found by the API fuzzer: a Unicode digit or a number beyond 64 bits was a 500."""
    answer = await client.get(
        api(party.leipzig, "/referrals"), params={"cursor": cursor}, headers=party.admin.headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "cursor" in answer.text


@pytest.mark.parametrize("limit", [0, 501])
async def test_a_limit_beyond_the_lists_range_is_a_422_naming_it(client, party, limit):
    """Like every list of the API (docs/api.md: 1 to 500): refused, not silently clamped."""
    answer = await client.get(
        api(party.leipzig, "/referrals"), params={"limit": limit}, headers=party.admin.headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "limit"
