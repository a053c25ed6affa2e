"""The console's boundaries in Chromium (issue #24): a caller sees only what a caller may, a
district's user who edits the URL reaches no other district's people (404), a form sent
without its CSRF token is refused, and the browser's session cookie opens no JSON API."""

from __future__ import annotations

from core import db
from core.testing import assert_accessible, console_log_in


async def test_a_caller_sees_only_what_a_caller_may(client, factory, live_server, console_page):
    district = await factory.org("KV Leipzig")
    caller = await factory.user("caller", district["id"])
    rosa = await factory.person(district["id"], first_name="Rosa", last_name="Luxemburg")
    page = console_page
    await console_log_in(page, live_server.url, caller.email)
    menu = await page.inner_text("nav.menu")
    for entry in ("Personen", "Import", "Verwaltung", "Protokoll"):
        assert entry not in menu
    await assert_accessible(page)
    for path in ("people", f"people/{rosa['id']}", "people/imports", "admin/units", "audit"):
        answer = await page.goto(f"{live_server.url}/app/orgs/{district['id']}/{path}")
        assert answer is not None and answer.status == 403, path
        assert "Luxemburg" not in await page.inner_text("main")


async def test_editing_the_url_reaches_no_other_districts_people(
    client, factory, live_server, console_page
):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    organizer = await factory.user("admin", leipzig["id"])
    theirs = await factory.person(dresden["id"], first_name="Fremde", last_name="Person")
    mine = await factory.person(leipzig["id"], first_name="Eigene", last_name="Person")
    page = console_page
    await console_log_in(page, live_server.url, organizer.email)
    for url in (
        f"/app/orgs/{dresden['id']}/people",
        f"/app/orgs/{dresden['id']}/people/{theirs['id']}",
        f"/app/orgs/{leipzig['id']}/people/{theirs['id']}",
        f"/app/orgs/{leipzig['id']}/people/{theirs['id']}/edit",
    ):
        answer = await page.goto(live_server.url + url)
        assert answer is not None and answer.status == 404, url
        assert "Fremde" not in await page.content()
        await assert_accessible(page)
    answer = await page.goto(f"{live_server.url}/app/orgs/{leipzig['id']}/people/{mine['id']}")
    assert answer is not None and answer.status == 200


async def test_a_form_without_its_token_is_refused_and_the_cookie_opens_no_api(
    client, factory, live_server, console_page
):
    district = await factory.org("KV Leipzig")
    organizer = await factory.user("admin", district["id"])
    rosa = await factory.person(district["id"], first_name="Rosa", last_name="Luxemburg")
    page = console_page
    await console_log_in(page, live_server.url, organizer.email)
    await page.goto(f"{live_server.url}/app/orgs/{district['id']}/people/{rosa['id']}/edit")
    await page.evaluate("document.querySelector('main form input[name=_csrf]').remove()")
    await page.fill("#f-last_name", "Gefälscht")
    async with page.expect_response(lambda r: r.request.method == "POST") as sent:
        await page.click("main form button[type=submit]")
    assert (await sent.value).status == 403
    row = await db.fetch_one("SELECT last_name FROM person WHERE id = {}", rosa["id"])
    assert row["last_name"] == "Luxemburg"
    # the browser holds the session cookie; the JSON API does not take it
    api = await page.request.get(f"{live_server.url}/api/orgs/{district['id']}/people")
    assert api.status == 401
    me = await page.request.get(f"{live_server.url}/api/me")
    assert me.status == 401
