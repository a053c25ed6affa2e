"""The mailing pages in Chromium (issue #26, "Done when"): on a phone (390 x 844) and at
1280 x 800 an organizer writes a mailing, previews it for a recipient (live, as typed), sends a
test to themself, sends it after confirming the number of recipients, and the statistics count
the delivered mails (a real SMTP server, the live server's worker sends). Every page passes
axe-core (WCAG 2.1 A/AA) and reflows at 320 px."""

from __future__ import annotations

import asyncio
import time

from core import db
from core.tables import utcnow
from core.testing import assert_accessible, console_log_in, console_menu, next_page
from tests.plugins.mailings.conftest import add_people


async def _until(check, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_an_organizer_writes_previews_tests_sends_and_reads_the_statistics(
    client, factory, live_server, console_page, screenshot_dir, smtp_sink
):
    org = await factory.org("KV Leipzig", kind="district")
    await factory.enable(org["id"], "mailings")
    organizer = await factory.user("admin", org["id"])
    ids = await add_people(org["id"], 3)
    await db.execute(
        "INSERT INTO mailings_sender (org_id, name, address, created_at, updated_at) "
        "VALUES ({}, 'KV Leipzig', 'kv@example.org', {}, {})",
        org["id"],
        utcnow(),
        utcnow(),
    )
    page = console_page
    await page.set_viewport_size({"width": 390, "height": 844})
    await console_log_in(page, live_server.url, organizer.email, org["id"])
    await page.goto(live_server.url + f"/app/orgs/{org['id']}")
    await console_menu(page, "Mailings")
    await page.wait_for_url(f"**/app/orgs/{org['id']}/mailings")
    await assert_accessible(page)
    await page.click("text=Neues Mailing")
    await page.wait_for_url("**/mailings/new")
    await assert_accessible(page)

    await page.fill("#f-subject", "Demo am Samstag")
    await page.focus("#f-body")
    await page.keyboard.type("{{ person.salutation }}, komm zur **Demo**!")
    await page.locator("#mail-preview-body strong", has_text="Demo").wait_for()  # live
    await page.locator("#mail-preview-body", has_text="Liebe Erika").wait_for()

    # the audience: "has an e-mail address", added by keyboard (the add menu, Tab, Enter)
    await page.select_option("#f-audience-new", "has_email")
    await page.focus("#f-audience-new")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.locator("#n-audience-0").wait_for()
    assert await page.input_value("#f-subject") == "Demo am Samstag"  # nothing typed is lost
    await assert_accessible(page, answered_post=True)
    async with next_page(page):
        await page.click("button[name=save]")
    await page.wait_for_url("**/mailings/*")
    mailing = await db.fetch_one("SELECT id FROM mailings_mailing")
    assert page.url.endswith(f"/mailings/{mailing['id']}")
    assert "3 Personen bekommen sie." in await page.inner_text("#will-receive")
    await assert_accessible(page)

    # at desktop size: the preview for a chosen recipient, live and then from the server
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.select_option("#f-person", str(ids[1]))
    await page.locator("#mail-preview-body", has_text="Hallo P1").wait_for()
    await page.click("#preview-person-form button")
    await page.wait_for_url(f"**/preview?person={ids[1]}")
    assert "Hallo P1" in await page.inner_text("#mail-preview-body")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "mailing-compose.png"), full_page=True)

    # a test to oneself
    async with next_page(page):
        await page.click("text=Test an mich senden")
    assert organizer.email in await page.inner_text("[role=status]")

    async def tested() -> bool:
        return any(m["Subject"].startswith("[Test]") for m in smtp_sink.messages)

    await _until(tested)
    [test] = [m for m in smtp_sink.messages if m["Subject"].startswith("[Test]")]
    assert test["To"] == organizer.email

    # send after confirming the number
    await page.click("text=Senden …")
    await page.wait_for_url("**/send")
    assert "geht an 3 Personen" in await page.inner_text("#confirm-count")
    await assert_accessible(page)
    await page.check("#f-confirm")
    await page.click("text=Jetzt senden")
    await page.wait_for_url(f"**/mailings/{mailing['id']}")
    await assert_accessible(page)

    async def sent() -> bool:
        row = await db.fetch_one("SELECT state FROM mailings_mailing")
        return row["state"] == "sent"

    await _until(sent)
    await page.click("text=Statistik")
    await page.wait_for_url("**/stats")
    assert await page.inner_text("#fig-delivered") == "3"
    assert await page.is_visible("#chart-time")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "mailing-stats.png"), full_page=True)

    # the web version the mails link to
    await page.goto(live_server.url + f"/app/orgs/{org['id']}/mailings/{mailing['id']}")
    await page.click("text=Webversion")
    await page.wait_for_url("**/p/mailings/web/*")
    assert "Hallo" in await page.inner_text("main") and "P1" not in await page.inner_text("main")
    await assert_accessible(page)
