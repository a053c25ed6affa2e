"""Login, tokens (expiry, revocation), disabled users, throttling, password rules."""

from __future__ import annotations

from datetime import timedelta

from core import db
from core.auth.tables import AuthToken, LoginAttempt
from core.tables import utcnow
from core.testing import TEST_PASSWORD, client_at


async def login(client, email, password=TEST_PASSWORD, ip_headers=None):
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_login_returns_token_that_authenticates(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("organizer", org["id"], email="Anna@Example.org")
    response = await login(client, "anna@example.org")
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == user.email.lower()
    assert len(body["token"]) >= 43  # 256 bits, base64url
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["roles"] == [{"org_id": org["id"], "role": "organizer"}]
    assert [u["id"] for u in me.json()["visible_org_units"]] == [org["id"]]
    stored = await AuthToken.select(AuthToken.token_hash).run()
    assert all(body["token"] not in row["token_hash"] for row in stored)


async def test_unknown_email_and_wrong_password_answer_the_same(client, factory):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="known@example.org")
    unknown = await login(client, "nobody@example.org")
    wrong = await login(client, "known@example.org", "wrong password entirely")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["type"] == wrong.json()["type"] == "urn:orga:problem:invalid-credentials"
    assert unknown.json()["detail"] == wrong.json()["detail"]
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_failed_logins_are_throttled_per_account(client, factory):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="target@example.org")
    for _ in range(5):
        assert (await login(client, "target@example.org", "not the password")).status_code == 401
    blocked = await login(client, "target@example.org")  # even the right password now waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    other = await factory.user("admin", org["id"], email="other@example.org")
    assert (await login(client, other.email)).status_code == 201
    await LoginAttempt.update({LoginAttempt.at: utcnow() - timedelta(hours=1)}, force=True).run()
    assert (await login(client, "target@example.org")).status_code == 201


async def test_an_attacker_cannot_lock_an_admin_out(client, factory, app):
    """Failures from address A throttle A on that account, not the account: the admin logs in
    at once from B; a fresh address gets one wrong guess before it is throttled too."""
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="chef@example.org")
    for _ in range(8):
        await login(client, "chef@example.org", "guessing from A 123")  # client: 127.0.0.1
    shut = await login(client, "chef@example.org")
    assert shut.status_code == 429 and int(shut.headers["retry-after"]) > 0
    assert shut.json()["type"] == "urn:orga:problem:login-throttled"
    async with client_at(app, "198.51.100.20") as admin_at_b:
        assert (await login(admin_at_b, "chef@example.org")).status_code == 201
    async with client_at(app, "203.0.113.66") as attacker_at_c:
        wrong = await login(attacker_at_c, "chef@example.org", "guessing from C 123")
        assert wrong.status_code == 401
        assert (await login(attacker_at_c, "chef@example.org")).status_code == 429
    assert (await login(client, "chef@example.org")).status_code == 429  # A is still limited
    ghost = [await login(client, "ghost@example.org", "guessing 123456") for _ in range(6)]
    assert [r.status_code for r in ghost] == [401] * 5 + [429]  # unknown accounts alike


async def test_failed_logins_are_throttled_per_client_address(client, factory):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="victim@example.org")
    for i in range(30):
        await login(client, f"spray{i}@example.org", "some guess 123456")
    assert (await login(client, "victim@example.org")).status_code == 429


async def test_logout_revokes_the_token(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("admin", org["id"])
    assert (await client.post("/api/auth/logout", headers=user.headers)).status_code == 204
    response = await client.get("/api/me", headers=user.headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_idle_and_absolute_expiry(client, factory):
    org = await factory.org(kind="federal")
    idle = await factory.user("admin", org["id"])
    await (
        AuthToken.update({AuthToken.last_used_at: utcnow() - timedelta(hours=3)})
        .where(AuthToken.id == idle.token_id)
        .run()
    )
    assert (await client.get("/api/me", headers=idle.headers)).status_code == 401
    absolute = await factory.user("admin", org["id"])
    await (
        AuthToken.update({AuthToken.expires_at: utcnow() - timedelta(seconds=1)})
        .where(AuthToken.id == absolute.token_id)
        .run()
    )
    assert (await client.get("/api/me", headers=absolute.headers)).status_code == 401


async def test_sessions_list_and_revoke_one(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("admin", org["id"], email="multi@example.org")
    second = (await login(client, "multi@example.org")).json()["token"]
    sessions = (await client.get("/api/me/sessions", headers=user.headers)).json()["items"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions] == [True, False]
    other_id = sessions[1]["id"]
    revoked = await client.delete(f"/api/me/sessions/{other_id}", headers=user.headers)
    assert revoked.status_code == 204
    headers = {"Authorization": f"Bearer {second}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 401


async def test_cannot_revoke_someone_elses_session(client, factory):
    org = await factory.org(kind="federal")
    alice = await factory.user("admin", org["id"])
    bob = await factory.user("admin", org["id"])
    response = await client.delete(f"/api/me/sessions/{bob.token_id}", headers=alice.headers)
    assert response.status_code == 404
    assert (await client.get("/api/me", headers=bob.headers)).status_code == 200


async def test_disabling_a_user_kills_all_tokens(client, factory):
    org = await factory.org(kind="federal")
    admin = await factory.user("admin", org["id"])
    victim = await factory.user("caller", org["id"], email="leaver@example.org")
    second = (await login(client, "leaver@example.org")).json()["token"]
    response = await client.patch(
        f"/api/orgs/{org['id']}/users/{victim.id}", json={"active": False}, headers=admin.headers
    )
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=victim.headers)).status_code == 401
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {second}"})
    ).status_code == 401
    assert (await login(client, "leaver@example.org")).status_code == 401


async def test_password_change_needs_current_password_and_logs_out_others(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("admin", org["id"], email="changer@example.org")
    other = (await login(client, "changer@example.org")).json()["token"]
    wrong = await client.post(
        "/api/auth/password",
        headers=user.headers,
        json={"current_password": "not it at all", "new_password": "a brand new passphrase 99"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    ok = await client.post(
        "/api/auth/password",
        headers=user.headers,
        json={"current_password": TEST_PASSWORD, "new_password": "a brand new passphrase 99"},
    )
    assert ok.status_code == 204
    assert (await client.get("/api/me", headers=user.headers)).status_code == 200
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {other}"})
    ).status_code == 401
    assert (
        await login(client, "changer@example.org", "a brand new passphrase 99")
    ).status_code == 201


async def test_password_rules(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("viewer", org["id"])
    cases = {
        "short": "too short 1",
        "common": "passwordpassword",
        "guessable": "aaaaaaaaaaaaaaaa",
        "too_long": "x" * 129,
    }
    for label, password in cases.items():
        response = await client.post(
            "/api/auth/password",
            headers=user.headers,
            json={"current_password": TEST_PASSWORD, "new_password": password},
        )
        assert response.status_code == 422, label
        assert response.json()["errors"][0]["field"] == "new_password", label
    long_ok = "a sixty four character passphrase that is long enough for anyone!"
    assert len(long_ok) >= 64
    response = await client.post(
        "/api/auth/password",
        headers=user.headers,
        json={"current_password": TEST_PASSWORD, "new_password": long_ok},
    )
    assert response.status_code == 204


async def test_api_token_is_scoped_to_unit_and_permissions(client, factory):
    root = await factory.org(kind="federal")
    a = await factory.org("KV A", parent=root["id"])
    b = await factory.org("KV B", parent=root["id"])
    admin = await factory.user("admin", root["id"])
    response = await client.post(
        f"/api/orgs/{a['id']}/tokens",
        headers=admin.headers,
        json={"name": "website", "permissions": ["audit.view"]},
    )
    assert response.status_code == 201
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await client.get(f"/api/orgs/{a['id']}/audit", headers=headers)).status_code == 200
    assert (await client.get(f"/api/orgs/{b['id']}/audit", headers=headers)).status_code == 404
    assert (await client.get(f"/api/orgs/{a['id']}/members", headers=headers)).status_code == 403
    assert (
        await client.post(
            f"/api/orgs/{a['id']}/tokens",
            headers=headers,
            json={"name": "again", "permissions": ["audit.view"]},
        )
    ).status_code == 403
    token_id = response.json()["id"]
    await client.delete(f"/api/me/sessions/{token_id}", headers=admin.headers)
    assert (await client.get(f"/api/orgs/{a['id']}/audit", headers=headers)).status_code == 401


async def test_cannot_mint_token_with_permissions_not_held(client, factory):
    org = await factory.org(kind="federal")
    organizer = await factory.user("organizer", org["id"])
    response = await client.post(
        f"/api/orgs/{org['id']}/tokens",
        headers=organizer.headers,
        json={"name": "x", "permissions": ["people.erase"]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "permissions"


async def test_logins_are_audited_without_personal_data(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("admin", org["id"], email="audited@example.org")
    await login(client, "audited@example.org")
    await login(client, "audited@example.org", "wrong guess here")
    rows = await db.fetch("SELECT action, user_id, detail FROM audit_log ORDER BY id")
    actions = [(r["action"], r["user_id"]) for r in rows]
    assert ("auth.login", user.id) in actions
    assert ("auth.login_failed", user.id) in actions
    assert all("audited@" not in str(r["detail"]) for r in rows)


async def test_sessions_come_in_keyset_pages(client, factory):
    org = await factory.org(kind="federal")
    user = await factory.user("admin", org["id"], email="pages@example.org")
    for _ in range(2):
        await login(client, "pages@example.org")
    first = (await client.get("/api/me/sessions", params={"limit": 2}, headers=user.headers)).json()
    second = (
        await client.get(
            "/api/me/sessions",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=user.headers,
        )
    ).json()
    ids = [s["id"] for s in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3 and ids == sorted(ids)
    assert second["next_cursor"] is None
