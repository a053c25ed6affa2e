"""Adding members: by e-mail (an invitation or a notice, the same answer either way) or by the
id of a user the admin already sees; no route tells an admin which addresses have accounts."""

from __future__ import annotations

import re

import pytest

from core import db
from core.jobs.worker import Worker
from core.testing import TEST_PASSWORD

NEW = "a fresh and long passphrase 2026"


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "https://orga.example.org"}


@pytest.fixture
async def units(factory):
    root = await factory.org("Bund", kind="federal")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    admin = await factory.user("admin", leipzig["id"])
    return root, leipzig, dresden, admin


async def add(client, unit, admin, **body):
    return await client.post(f"/api/orgs/{unit['id']}/members", json=body, headers=admin.headers)


async def audit_actions(client, unit, admin) -> list[tuple[str, str | None]]:
    page = await client.get(f"/api/orgs/{unit['id']}/audit", headers=admin.headers)
    return [(e["action"], e["object_type"]) for e in page.json()["items"]]


async def test_by_e_mail_the_answer_never_tells_whether_the_account_existed(
    client, app, factory, smtp_sink, units
):
    root, leipzig, _dresden, admin = units
    await factory.user("admin", root["id"], email="known@example.org")
    audit_before = await audit_actions(client, leipzig, admin)
    known = await add(client, leipzig, admin, email="known@example.org", role="caller")
    audit_after_known = await audit_actions(client, leipzig, admin)
    new = await add(client, leipzig, admin, email=" New@Example.org", role="caller")
    assert known.status_code == new.status_code == 202, (known.text, new.text)
    assert known.headers["content-type"] == new.headers["content-type"]
    assert known.json() == {"org_id": leipzig["id"], "email": "known@example.org", "role": "caller"}
    assert new.json() == {"org_id": leipzig["id"], "email": "new@example.org", "role": "caller"}
    # the unit's audit log grew by the same kind of row in both cases
    grew_by_known = audit_after_known[: len(audit_after_known) - len(audit_before)]
    audit = await audit_actions(client, leipzig, admin)
    assert (
        grew_by_known == audit[: len(audit) - len(audit_after_known)] == [("role.granted", "user")]
    )
    # each address got one mail: a notice, and an invitation to choose a password
    await Worker(app.state.orga.job_handlers()).drain()
    mails = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.messages}
    assert set(mails) == {"known@example.org", "new@example.org"}
    assert mails["known@example.org"]["Subject"] == "Du hast eine neue Rolle in orga"
    assert "/p/auth/reset/" not in mails["known@example.org"].get_body(("plain",)).get_content()
    assert mails["new@example.org"]["Subject"] == "Du bist zu orga eingeladen"
    text = mails["new@example.org"].get_body(("plain",)).get_content()
    token = re.search(r"https://orga\.example\.org/p/auth/reset/(\S+)", text).group(1)
    # no password works until the invitee chose one
    login = {"email": "new@example.org", "password": ""}
    assert (await client.post("/api/auth/login", json=login)).status_code in (401, 422)
    chosen = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW}
    )
    assert chosen.status_code == 204
    session = await client.post(
        "/api/auth/login", json={"email": "new@example.org", "password": NEW}
    )
    assert session.status_code == 201
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {session.json()['token']}"})
    assert [(r["org_id"], r["role"]) for r in me.json()["roles"]] == [(leipzig["id"], "caller")]


async def test_by_id_only_for_users_the_admin_already_sees(client, factory, units):
    root, leipzig, dresden, admin = units
    local = await factory.org("OV Süd", parent=leipzig["id"])
    member = await factory.user("caller", local["id"], email="member@example.org")
    elsewhere = await factory.user("caller", dresden["id"])
    above = await factory.user("admin", root["id"])
    no_role = await factory.user(None, None)
    added = await add(client, leipzig, admin, user_id=member.id, role="viewer")
    assert added.status_code == 202, added.text
    assert added.json()["email"] == "member@example.org"
    hidden = [elsewhere.id, above.id, no_role.id, 999_999]
    answers = [await add(client, leipzig, admin, user_id=uid, role="viewer") for uid in hidden]
    assert {a.status_code for a in answers} == {422}
    bodies = [{k: v for k, v in a.json().items() if k != "instance"} for a in answers]
    assert all(body == bodies[0] for body in bodies)  # unknown and invisible look alike
    assert bodies[0]["errors"][0]["field"] == "user_id"
    for uid in hidden[:3]:
        assert not await db.fetch(
            "SELECT 1 FROM role_assignment WHERE user_id = {} AND org_id = {}", uid, leipzig["id"]
        )


async def test_a_member_is_named_by_exactly_one_of_email_and_id(client, units):
    _root, leipzig, _dresden, admin = units
    for body in ({"role": "caller"}, {"role": "caller", "email": "a@b.org", "user_id": 1}):
        response = await add(client, leipzig, admin, **body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "email"
    bad = await add(client, leipzig, admin, email="not-an-address", role="caller")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert (await add(client, leipzig, admin, email="x@y.org", role="boss")).status_code == 422
    assert not await db.fetch("SELECT 1 FROM orga_user WHERE email = 'x@y.org'")


async def test_the_old_user_creation_route_is_gone(client, units):
    """``POST …/users`` set someone else's password and answered 409 for a known address."""
    _root, leipzig, _dresden, admin = units
    response = await client.post(
        f"/api/orgs/{leipzig['id']}/users",
        json={
            "email": "someone@example.org",
            "display_name": "Someone",
            "password": TEST_PASSWORD,
            "role": "viewer",
        },
        headers=admin.headers,
    )
    assert response.status_code in (404, 405)
