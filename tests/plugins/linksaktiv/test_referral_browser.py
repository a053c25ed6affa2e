"""The referral inbox in Chromium (issue #27 item 6): the local leadership accepts a referral
on a desktop; a district organizer, no admin, who holds ``linksaktiv.referrals`` through
``[orga.roles.organizer]`` in orga.toml, receives one and answers it on a phone by keyboard.
Every page passes axe-core and reflows at 320 px."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from core import db
from core.testing import assert_accessible, console_log_in, console_menu, next_page
from tests.plugins.linksaktiv.test_referrals import volunteer


@pytest.fixture
def orga_overrides(smtp_sink):
    return {
        "smtp_url": smtp_sink.url,
        "roles": {"organizer": {"add": ["linksaktiv.referrals"]}},
    }


async def test_leadership_accepts_and_a_district_organizer_answers_on_a_phone(
    app, client, factory, party, live_server, console_page, screenshot_dir
):
    leader = await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    organizer = await factory.user("organizer", party.dresden["id"], email="dd@example.org")
    await volunteer(app, client, "a@example.org", "04105", ["doors", "phone"])
    await volunteer(app, client, "b@example.org", "01067", ["info_stand"])
    rows = await db.fetch("SELECT org_id FROM linksaktiv_referral ORDER BY id")
    assert [r["org_id"] for r in rows] == [party.leipzig["id"], party.dresden["id"]]
    page = console_page

    await console_log_in(page, live_server.url, leader.email, party.leipzig["id"])
    await console_menu(page, "Vermittlungen")
    await page.wait_for_url("**/linksaktiv/referrals")
    main = await page.inner_text("main")
    assert "04105" in main and "KV Leipzig" in main and "an Haustüren klingeln" in main
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-referrals.png"), full_page=True)
    await page.fill("li.referral textarea[name=note]", "Treffen am Donnerstag im Büro")
    async with next_page(page):
        await page.click("li.referral button[value=accept]")
    await page.wait_for_url("**/linksaktiv/referrals")
    await expect(page.locator("main")).to_contain_text("Die Vermittlung ist angenommen.")
    await assert_accessible(page)
    await page.click("nav.views >> text=Verlauf")
    await page.wait_for_url("**/referrals?view=history")
    assert "Treffen am Donnerstag im Büro" in await page.inner_text("main table")
    await assert_accessible(page)

    await page.context.clear_cookies()
    await page.set_viewport_size({"width": 390, "height": 844})
    await console_log_in(page, live_server.url, organizer.email, party.dresden["id"])
    await page.goto(f"{live_server.url}/app/orgs/{party.dresden['id']}/linksaktiv/referrals")
    assert "01067" in await page.inner_text("main")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-referrals-phone.png"), full_page=True)
    await page.focus("li.referral textarea[name=note]")
    await page.keyboard.type("Wohnt nah an Leipzig")
    await page.keyboard.press("Tab")  # Accept
    await page.keyboard.press("Tab")  # Pass up the tree
    async with next_page(page):
        await page.keyboard.press("Enter")
    await page.wait_for_url("**/linksaktiv/referrals")
    await expect(page.locator("main")).to_contain_text("Niemand wartet.")
    row = await db.fetch_one("SELECT org_id, status FROM linksaktiv_referral ORDER BY id DESC")
    # Saxony has nobody receiving referrals: the federal team gets it
    assert row == {"org_id": party.root["id"], "status": "new"}
    await assert_accessible(page)
