"""The organizer's event pages in Chromium (issue #26 items 1, 2, 6, 7), at 1280 x 800 and on a
phone (390 x 844) in one walk: create an event through the form (live Markdown preview),
publish it, find it in the list and the month, open the statistics; every page passes
axe-core (WCAG 2.1 A/AA) and reflows at 320 px."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from core import db
from core.tables import utcnow
from core.testing import assert_accessible, console_log_in, console_menu, next_page


async def test_an_organizer_creates_publishes_and_finds_an_event(
    client, setup, live_server, console_page, screenshot_dir
):
    page = console_page
    org = setup.org["id"]
    base = f"{live_server.url}/app/orgs/{org}/events"
    start = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo("Europe/Berlin")).date()
    await page.set_viewport_size({"width": 1280, "height": 800})
    await console_log_in(page, live_server.url, setup.organizer.email, org)
    await console_menu(page, "Termine")
    await page.wait_for_url(f"**/app/orgs/{org}/events")
    await assert_accessible(page)
    await page.click("text=Neue Veranstaltung")
    await page.wait_for_url("**/events/new")
    await assert_accessible(page)
    await page.fill("#f-title", "Infostand Mietendeckel")
    await page.focus("#f-description")
    await page.keyboard.type("Flyer **verteilen**")
    await page.locator("#preview-body strong", has_text="verteilen").wait_for()  # live
    await page.fill("#f-start_at", f"{start.isoformat()}T10:00")
    await page.fill("#f-end_at", f"{start.isoformat()}T16:00")
    await page.fill("#f-location", "Marktplatz")
    async with next_page(page):
        await page.click("button[name=save]")
    await page.wait_for_url("**/events/*")
    row = await db.fetch_one("SELECT id, state FROM events_event")
    assert row["state"] == "draft"
    async with next_page(page):
        await page.click("text=Veröffentlichen")
    await page.locator("#mail-plan").wait_for()
    assert (await db.fetch_one("SELECT state FROM events_event"))["state"] == "published"
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-event.png"), full_page=True)

    await page.goto(base)
    await page.locator("table a", has_text="Infostand Mietendeckel").wait_for()
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-events.png"), full_page=True)
    await page.goto(f"{base}?view=month&month={start.strftime('%Y-%m')}")
    await page.locator(".month-grid a", has_text="Infostand Mietendeckel").wait_for()
    await assert_accessible(page)

    await page.set_viewport_size({"width": 390, "height": 844})  # a phone: the month as a list
    assert await page.locator(".month-grid a", has_text="Infostand Mietendeckel").is_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.screenshot(path=str(screenshot_dir / "console-events-month-phone.png"))
    await page.goto(f"{base}/stats")
    await page.locator("#chart-signups").wait_for()
    await assert_accessible(page)
    await page.goto(f"{base}/{row['id']}/cancel")
    await assert_accessible(page)
