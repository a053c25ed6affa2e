"""The console's foundation over HTTP (issue #24): login form, session cookie, CSRF, the
cookie is no API credential, unit start page, 404 across units, errors as pages."""

from __future__ import annotations

from core import db
from tests.core.console.helpers import PASSWORD, console_login, csrf_of


async def test_a_browser_at_the_root_lands_on_the_login(client):
    root = await client.get("/")
    assert root.status_code == 303 and root.headers["location"] == "/app"
    app = await client.get("/app")
    assert app.status_code == 303 and app.headers["location"].startswith("/app/login?next=")
    login = await client.get(app.headers["location"])
    assert login.status_code == 200 and 'lang="de"' in login.text
    assert "script-src 'self'" in login.headers["content-security-policy"]


async def test_login_sets_a_strict_cookie_and_opens_the_units_start_page(client, factory):
    org = await factory.org("KV Leipzig")
    user = await factory.user("organizer", org["id"])
    await factory.person(org["id"], member_status="member")
    done = await console_login(client, user.email)
    assert done.status_code == 303 and done.headers["location"] == "/app"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("orga_session=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    index = await client.get("/app")
    assert index.status_code == 303 and index.headers["location"] == f"/app/orgs/{org['id']}"
    start = await client.get(index.headers["location"])
    assert start.status_code == 200
    assert "<h1>KV Leipzig</h1>" in start.text and 'aria-current="page"' in start.text
    assert start.headers["cache-control"] == "no-store"


async def test_wrong_password_shows_the_form_again(client, factory):
    org = await factory.org("KV")
    user = await factory.user("organizer", org["id"])
    page = await client.get("/app/login")
    wrong = await client.post(
        "/app/login",
        data={"email": user.email, "password": "nope", "_csrf": csrf_of(page.text)},
    )
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text
    assert "orga_session" not in wrong.headers.get("set-cookie", "")


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, factory):
    org = await factory.org("KV")
    user = await factory.user("organizer", org["id"])
    login_page = await client.get("/app/login")
    refused = await client.post("/app/login", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 403 and "<h1>" in refused.text
    assert "orga_session" not in refused.headers.get("set-cookie", "")
    assert csrf_of(login_page.text)
    await console_login(client, user.email)
    before = await db.fetch_one("SELECT display_name FROM orga_user WHERE id = {}", user.id)
    forged = await client.post("/app/account/name", data={"display_name": "Mallory"})
    assert forged.status_code == 403
    other = await client.post(
        "/app/account/name", data={"display_name": "Mallory", "_csrf": "0" * 40}
    )
    assert other.status_code == 403
    after = await db.fetch_one("SELECT display_name FROM orga_user WHERE id = {}", user.id)
    assert after == before
    account = await client.get("/app/account")
    saved = await client.post(
        "/app/account/name", data={"display_name": "Rosa", "_csrf": csrf_of(account.text)}
    )
    assert saved.status_code == 303
    shown = await client.get("/app/account")
    assert 'role="status"' in shown.text and 'value="Rosa"' in shown.text


async def test_the_session_cookie_is_no_api_credential(client, factory):
    org = await factory.org("KV")
    user = await factory.user("admin", org["id"])
    done = await console_login(client, user.email)
    secret = done.cookies.get("orga_session") or client.cookies.get("orga_session")
    assert secret
    assert (await client.get("/api/me")).status_code == 401  # the cookie alone
    as_bearer = await client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert as_bearer.status_code == 401
    # and an API bearer token in the cookie opens no console page
    client.cookies.set("orga_session", user.token, domain="testserver.local")
    assert (await client.get("/app/account")).status_code == 303


async def test_another_districts_unit_is_a_404_page(client, factory):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    user = await factory.user("organizer", leipzig["id"])
    await console_login(client, user.email)
    mine = await client.get(f"/app/orgs/{leipzig['id']}")
    assert mine.status_code == 200
    theirs = await client.get(f"/app/orgs/{dresden['id']}")
    assert theirs.status_code == 404
    assert (
        theirs.headers["content-type"].startswith("text/html") and "KV Dresden" not in theirs.text
    )


async def test_logout_ends_the_session(client, factory):
    org = await factory.org("KV")
    user = await factory.user("organizer", org["id"])
    await console_login(client, user.email)
    account = await client.get("/app/account")
    out = await client.post("/app/logout", data={"_csrf": csrf_of(account.text)})
    assert out.status_code == 303
    again = await client.get("/app/account")
    assert again.status_code == 303 and "/app/login" in again.headers["location"]
