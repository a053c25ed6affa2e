"""Join links, info-stand mode and newspapers in Chromium (issue #27 items 3-5): an organizer
prints a join link; a volunteer on a phone enters a contact at the stand who confirms by mail
and is then among the district's activists; an office approves and packs orders and
downloads the pickup list. axe and 320 px reflow on every page."""

from __future__ import annotations

import csv
import io
import re

import pytest

from core import db
from core.testing import assert_accessible, console_log_in, next_page
from tests.plugins.linksaktiv.conftest import api
from tests.plugins.linksaktiv.test_browser import text_of, wait_for_mail


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


async def test_a_volunteer_on_a_phone_enters_a_contact_who_confirms_by_mail(
    client, factory, party, smtp_sink, live_server, console_page, screenshot_dir
):
    page = console_page
    organizer = await factory.user("organizer", party.leipzig["id"])
    volunteer = await factory.user("caller", party.leipzig["id"])
    base = f"{live_server.url}/app/orgs/{party.leipzig['id']}/linksaktiv"

    # the organizer's join links and a printable sheet (desktop)
    await console_log_in(page, live_server.url, organizer.email, party.leipzig["id"])
    await page.click("nav.menu a[href$='/linksaktiv/join']")
    await page.wait_for_url("**/linksaktiv/join")
    assert await page.locator(".join-links svg").count() == 5
    await assert_accessible(page)
    await page.click("a[href$='/join/info_stand/sheet']")
    await page.wait_for_url("**/join/info_stand/sheet")
    assert "/p/linksaktiv/j/" in await page.inner_text(".sheet-url")
    await assert_accessible(page)
    await page.context.clear_cookies()

    # the volunteer at the stand, on a phone
    await page.set_viewport_size({"width": 390, "height": 844})
    await console_log_in(page, live_server.url, volunteer.email, party.leipzig["id"])
    await page.goto(base + "/stand")
    await assert_accessible(page)
    await page.fill("#f-first_name", "Clara")
    await page.fill("#f-last_name", "Zetkin")
    await page.fill("#f-postal_code", "04107")
    await page.check("#f-topic-rent")
    await page.check("#f-help-newspapers")
    async with next_page(page):
        await page.click(".stand-save")  # the address is missing: shown beside the field
    assert await page.locator("#f-email-error").count() == 1
    assert await page.input_value("#f-first_name") == "Clara"
    await assert_accessible(page, answered_post=True)
    assert await db.fetch("SELECT id FROM person") == []
    await page.fill("#f-email", "clara@example.org")
    await page.check("#f-consent")
    await page.screenshot(path=str(screenshot_dir / "linksaktiv-info-stand.png"), full_page=True)
    async with next_page(page):
        await page.click(".stand-save")
    await page.wait_for_url("**/linksaktiv/stand")
    assert await page.locator(".flash").count() == 1
    assert await page.input_value("#f-first_name") == ""
    pending = await client.get(api(party.leipzig, "/activists"), headers=party.admin.headers)
    assert [a["status"] for a in pending.json()["items"]] == ["pending"]

    # the contact confirms by mail and is one of the district's activists
    mail = await wait_for_mail(smtp_sink, "clara@example.org")
    link = re.search(r"https?://\S+/p/linksaktiv/confirm/\S+", text_of(mail)).group(0)
    assert (await page.goto(link)).status == 200
    listed = await client.get(api(party.leipzig, "/activists"), headers=party.admin.headers)
    [activist] = listed.json()["items"]
    assert (activist["first_name"], activist["status"], activist["source"]) == (
        "Clara",
        "confirmed",
        "info_stand",
    )
    assert activist["home_org_id"] == party.leipzig["id"] and activist["topics"] == ["rent"]
    # and the district's office finds her in its activist list, confirmed, from the stand
    await page.context.clear_cookies()
    await page.set_viewport_size({"width": 1280, "height": 800})
    await console_log_in(page, live_server.url, organizer.email, party.leipzig["id"])
    await page.goto(base + "/activists?status=confirmed&source=info_stand")
    assert "Zetkin" in await page.inner_text("main table")


async def test_an_office_approves_and_packs_orders_and_downloads_the_pickup_list(
    client, factory, party, live_server, console_page, screenshot_dir
):
    edition = await client.post(
        api(party.leipzig, "/editions"),
        json={"title": "Zeitung Dezember", "date": "2026-12-01", "copies": 500},
        headers=party.admin.headers,
    )
    edition_id = edition.json()["id"]
    for name in ("Bebel", "Zetkin", "Luxemburg"):
        person = await factory.person(party.leipzig["id"], postal_code="04105", last_name=name)
        made = await client.post(
            api(party.leipzig, "/orders"),
            json={"person_id": person["id"], "edition_id": edition_id, "quantity": 20},
            headers=party.admin.headers,
        )
        assert made.status_code == 201
    office = await factory.user("organizer", party.leipzig["id"])
    page = console_page
    await console_log_in(page, live_server.url, office.email, party.leipzig["id"])
    await page.click("nav.menu a[href$='/linksaktiv/newspapers']")
    await page.wait_for_url("**/linksaktiv/newspapers")
    await assert_accessible(page)
    await page.click("text=Zeitung Dezember")
    await page.wait_for_url(f"**/newspapers/{edition_id}")
    await assert_accessible(page)
    for box in await page.locator("input[name=orders]").all():
        await box.check()
    async with next_page(page):
        await page.click("button[value=approved]")
    await page.wait_for_url("**status=requested")
    assert await page.locator(".flash").count() == 1
    await page.click("a[href$='status=approved']")
    await page.wait_for_url("**status=approved")
    assert await page.locator("input[name=orders]").count() == 3
    await page.locator("input[name=orders]").first.check()
    await page.locator("input[name=orders]").nth(1).check()
    async with next_page(page):
        await page.click("button[value=packed]")
    await page.wait_for_url("**status=approved")
    await page.click("a[href$='status=packed']")
    await page.wait_for_url("**status=packed")
    assert await page.locator("tbody tr").count() == 2
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "linksaktiv-newspapers.png"), full_page=True)
    states = await db.fetch("SELECT status FROM linksaktiv_order ORDER BY id")
    assert [s["status"] for s in states] == ["packed", "packed", "approved"]

    await page.click("a[href$='/pickup']")
    await page.wait_for_url("**/pickup")
    assert "Braustraße 15" in await page.inner_text("main")
    await assert_accessible(page)
    async with page.expect_download() as waiting:
        await page.click("a[href$='/pickup.csv']")
    download = await waiting.value
    with open(await download.path(), encoding="utf-8") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read())))
    assert [r["last_name"] for r in rows] == ["Bebel", "Luxemburg", "Zetkin"]
    assert {r["status"] for r in rows} == {"packed", "approved"}

    await page.goto(
        f"{live_server.url}/app/orgs/{party.leipzig['id']}/linksaktiv/newspapers/report"
    )
    await assert_accessible(page)
