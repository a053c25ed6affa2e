"""The console in Chromium (issue #24): an organizer logs in from ``/`` by keyboard alone,
reaches the unit's start page and the account page; every page passes axe-core (WCAG 2.1
A/AA) and reflows at 320 px."""

from __future__ import annotations

from core.testing import TEST_PASSWORD, assert_accessible


async def test_login_by_keyboard_start_page_and_account(
    client, factory, live_server, console_page, screenshot_dir
):
    root = await factory.org("Die Partei")
    district = await factory.org("KV Leipzig", parent=root["id"])
    await factory.org("OV Connewitz", parent=district["id"])
    user = await factory.user("organizer", district["id"])
    for n in range(3):
        await factory.person(district["id"], member_status="member", first_name=f"M{n}")
    page = console_page

    await page.goto(live_server.url + "/")
    assert "/app/login" in page.url
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-login.png"))
    await page.keyboard.press("Tab")  # the skip link
    await page.keyboard.press("Tab")  # the brand
    await page.keyboard.press("Tab")
    await page.keyboard.type(user.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(TEST_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/app/orgs/{district['id']}")
    assert await page.inner_text("h1") == "KV Leipzig"
    assert "OV Connewitz" in await page.inner_text("main")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-start.png"), full_page=True)

    await page.click("header a[href='/app/account']")
    await page.wait_for_url("**/app/account")
    await page.fill("#f-display_name", "Rosa Organisatorin")
    await page.click("#name-h ~ form button[type=submit]")
    await page.wait_for_url("**/app/account")
    assert "Gespeichert" in await page.inner_text("[role=status]")
    await assert_accessible(page)
