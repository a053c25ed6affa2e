"""Password reset by e-mail link: always 202, single use, 30 minutes, through core mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import db
from core.jobs.worker import Worker
from core.tables import utcnow
from core.testing import TEST_PASSWORD, client_at
from tests.pages import assert_errors_in

NEW = "a fresh and long passphrase 2026"


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "https://orga.example.org"}


async def request_link(client, app, smtp_sink, email, locale="de"):
    response = await client.post(
        "/api/auth/password-reset", json={"email": email}, headers={"Accept-Language": locale}
    )
    assert response.status_code == 202
    await Worker(app.state.orga.job_handlers()).drain()
    if not smtp_sink.messages:
        return None
    text = smtp_sink.messages[-1].get_body(("plain",)).get_content()
    return re.search(r"https://orga\.example\.org/p/auth/reset/(\S+)", text).group(1)


async def test_reset_link_sets_password_once(client, factory, app, smtp_sink):
    org = await factory.org(kind="federal")
    user = await factory.user("admin", org["id"], email="vergesslich@example.org")
    token = await request_link(client, app, smtp_sink, "Vergesslich@example.org")
    message = smtp_sink.messages[0]
    assert message["Subject"] == "Passwort zurücksetzen"
    assert (
        "Öffne diesen Link innerhalb von 30 Minuten" in message.get_body(("plain",)).get_content()
    )
    assert message.get_body(("html",)) is not None
    ok = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW}
    )
    assert ok.status_code == 204
    assert (await client.get("/api/me", headers=user.headers)).status_code == 401  # sessions end
    assert (
        await client.post("/api/auth/login", json={"email": user.email, "password": NEW})
    ).status_code == 201
    again = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW + "x"}
    )
    assert again.status_code == 400
    assert again.json()["type"] == "urn:orga:problem:reset-link-invalid"


async def test_unknown_address_answers_the_same_and_sends_nothing(client, app, smtp_sink):
    assert await request_link(client, app, smtp_sink, "nobody@example.org") is None
    assert smtp_sink.raw == []


async def test_expired_link_is_refused(client, factory, app, smtp_sink):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="late@example.org")
    token = await request_link(client, app, smtp_sink, "late@example.org", locale="en")
    assert smtp_sink.messages[0]["Subject"] == "Reset your password"
    await db.execute("UPDATE password_reset SET expires_at = {}", utcnow() - timedelta(minutes=1))
    response = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW}
    )
    assert response.status_code == 400
    old = await client.post(
        "/api/auth/login", json={"email": "late@example.org", "password": TEST_PASSWORD}
    )
    assert old.status_code == 201


async def test_weak_password_keeps_the_link_usable(client, factory, app, smtp_sink):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="weak@example.org")
    token = await request_link(client, app, smtp_sink, "weak@example.org")
    weak = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": "password1234"}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    assert (
        await client.post(
            "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW}
        )
    ).status_code == 204


async def test_reset_page_works_without_javascript(client, factory, app, smtp_sink):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="page@example.org")
    token = await request_link(client, app, smtp_sink, "page@example.org")
    page = await client.get(f"/p/auth/reset/{token}", headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert "Neues Passwort wählen" in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    short = await client.post(f"/p/auth/reset/{token}", data={"new_password": "short"})
    assert short.status_code == 422 and 'role="alert"' in short.text
    done = await client.post(f"/p/auth/reset/{token}", data={"new_password": NEW})
    assert done.status_code == 200
    assert 'role="status"' in done.text


@pytest.mark.parametrize("locale", ["de", "sv"])
async def test_reset_page_errors_are_in_the_pages_language(client, factory, app, smtp_sink, locale):
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="lang@example.org")
    token = await request_link(client, app, smtp_sink, "lang@example.org")
    headers = {"Accept-Language": locale}
    for password in ("short", "password1234"):  # too short, too common
        page = await client.post(
            f"/p/auth/reset/{token}", data={"new_password": password}, headers=headers
        )
        assert page.status_code == 422
        assert_errors_in(page.text, locale)
    broken = await client.post(
        "/p/auth/reset/" + "x" * 30, data={"new_password": NEW}, headers=headers
    )
    assert broken.status_code == 400
    assert_errors_in(broken.text, locale)


async def test_resets_are_throttled_per_account_and_per_address(client, factory, app, smtp_sink):
    """3 requests per e-mail address and 10 per client address in 15 minutes, then 429 and no
    mail; an unknown address gets exactly the same answers (nothing to enumerate)."""
    org = await factory.org(kind="federal")
    await factory.user("admin", org["id"], email="opfer@example.org")

    async def ask(http, email):
        return (await http.post("/api/auth/password-reset", json={"email": email})).status_code

    known = [await ask(client, "Opfer@example.org") for _ in range(5)]
    unknown = [await ask(client, "niemand@example.org") for _ in range(5)]
    assert known == unknown == [202, 202, 202, 429, 429]
    throttled = await client.post("/api/auth/password-reset", json={"email": "opfer@example.org"})
    assert throttled.json()["type"] == "urn:orga:problem:reset-throttled"
    assert int(throttled.headers["retry-after"]) > 0
    await Worker(app.state.orga.job_handlers()).drain()
    assert len(smtp_sink.messages) == 3
    async with client_at(app, "198.51.100.7") as elsewhere:
        assert await ask(elsewhere, "opfer@example.org") == 429  # the account's limit holds
        assert [await ask(elsewhere, f"x{i}@example.org") for i in range(11)] == [202] * 10 + [429]
    assert await ask(client, "fresh@example.org") == 202  # 127.0.0.1 has spent 6 of 10
    await db.execute("UPDATE login_attempt SET at = {}", utcnow() - timedelta(hours=1))
    assert await ask(client, "opfer@example.org") == 202
