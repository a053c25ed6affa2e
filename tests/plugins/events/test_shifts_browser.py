"""Issue #26's "Done when" for shifts in headless Chromium against ``orga serve``: an
organizer adds two shifts to an event through the forms, a visitor signs up for one shift on
the public page, the organizer checks them in on a phone and adds a walk-in; axe and 320 px
reflow on every page, at desktop and phone size."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from core import db
from core.tables import utcnow
from core.testing import assert_accessible, console_log_in, next_page
from tests.plugins.events.conftest import create


def _local(value) -> str:
    return value.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")


async def test_shifts_signup_and_phone_checkin_in_chromium(
    client, setup, live_server, console_page, screenshot_dir
):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=30)
    event = await create(
        client, setup, start_at=start.isoformat(), end_at=(start + timedelta(hours=4)).isoformat()
    )
    page = console_page
    base = f"{live_server.url}/app/orgs/{setup.org['id']}/events/{event['id']}"
    await console_log_in(page, live_server.url, setup.organizer.email, setup.org["id"])

    await page.goto(f"{base}/shifts")
    for begin, title, places in ((0, "Vormittag", "2"), (2, "Nachmittag", "")):
        await page.fill("#f-start_at", _local(start + timedelta(hours=begin)))
        await page.fill("#f-end_at", _local(start + timedelta(hours=begin + 2)))
        await page.fill("#f-title", title)
        await page.fill("#f-capacity", places)
        async with next_page(page):
            await page.click("form.narrow button[type=submit]")
        await page.wait_for_url(f"{base}/shifts")
    assert await page.locator("table.shifts tbody tr").count() == 2
    await assert_accessible(page)
    shifts = await db.fetch("SELECT id, title FROM events_shift ORDER BY start_at")
    assert [s["title"] for s in shifts] == ["Vormittag", "Nachmittag"]

    public = f"{live_server.url}/p/events/{setup.org['id']}/{event['id']}"
    await page.goto(public)
    await page.check(f"#shift-{shifts[0]['id']}")
    await page.fill("#first_name", "Rosa")
    await page.fill("#last_name", "Luxemburg")
    await page.fill("#phone", "0341 1234567")
    await page.check("#consent")
    await assert_accessible(page)
    async with next_page(page):
        await page.click("form button[type=submit]")
    assert "Vormittag" in await page.content()
    [signed] = await db.fetch("SELECT id, shift_id FROM events_participation")
    assert signed["shift_id"] == shifts[0]["id"]

    await page.set_viewport_size({"width": 390, "height": 844})  # the organizer's phone
    await page.goto(f"{base}/checkin")
    button = page.locator(f"#p-{signed['id']} button.tap")
    assert await button.get_attribute("aria-pressed") == "false"
    await button.click()
    for _ in range(100):  # the script flips the button in place (no eval: the CSP forbids it)
        if await button.get_attribute("aria-pressed") == "true":
            break
        await asyncio.sleep(0.05)
    assert await button.get_attribute("aria-pressed") == "true"
    assert page.url == f"{base}/checkin"  # no page load: the tap went by fetch
    row = await db.fetch_one("SELECT attendance FROM events_participation")
    assert row["attendance"] == "attended"
    await page.fill("#f-first_name", "August")
    await page.fill("#f-last_name", "Bebel")
    await page.select_option("#f-shift_id", str(shifts[1]["id"]))
    async with next_page(page):
        await page.click("form.walk-in button[type=submit]")
    await page.wait_for_url(f"{base}/checkin")
    assert await page.locator("ul.checkin li").count() == 2
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await page.screenshot(path=str(screenshot_dir / "console-checkin.png"), full_page=True)
    await assert_accessible(page)

    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{base}/participants?status=attended")
    assert await page.locator("tbody tr").count() == 2
    await assert_accessible(page)
    await page.goto(f"{base}/shifts/{shifts[1]['id']}")
    await assert_accessible(page)
