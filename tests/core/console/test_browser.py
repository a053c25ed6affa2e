"""The console in Chromium (issue #24): an organizer logs in from ``/`` by keyboard alone,
reaches the unit's start page and the account page; every page passes axe-core (WCAG 2.1
A/AA) and reflows at 320 px."""

from __future__ import annotations

from core.people.schemas import CustomFieldIn
from core.people.tags import create_custom_field
from core.testing import TEST_PASSWORD, assert_accessible, console_log_in, console_menu, next_page
from plugins.linksaktiv.tables import Activist


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
    async with next_page(page):
        await page.click("#name-h ~ form button[type=submit]")
    await page.wait_for_url("**/app/account")
    assert "Gespeichert" in await page.inner_text("[role=status]")
    await assert_accessible(page)


async def test_people_pages_by_keyboard_and_accessible(
    client, factory, live_server, console_page, screenshot_dir
):
    district = await factory.org("KV Leipzig")
    user = await factory.user("admin", district["id"])
    rosa = await factory.person(
        district["id"],
        first_name="Rosa",
        last_name="Luxemburg",
        email="rosa@example.org",
        phones=["+4934112345678"],
        member_status="member",
        notes="Mitgliederversammlungsleitung",
    )
    await factory.enable(district["id"], "linksaktiv")
    await create_custom_field(
        district["id"],
        CustomFieldIn(key="ag", label="Arbeitsgruppe", kind="choice", choices=["Umwelt", "Miete"]),
    )
    await Activist.insert(Activist(person=rosa["id"], status="confirmed", source="doors")).run()
    for n in range(12):
        await factory.person(district["id"], first_name=f"Person{n}", last_name="Beispiel")
    page = console_page
    await console_log_in(page, live_server.url, user.email, district["id"])
    await console_menu(page, "Personen")
    await page.wait_for_url("**/people")
    await page.fill("#f-q", "rosa")
    await page.press("#f-q", "Enter")
    await page.wait_for_url("**/people?q=rosa*")
    assert "Rosa Luxemburg" in await page.inner_text("main table")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-people.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone: name and number
    assert not await page.is_visible("main table th:has-text('E-Mail-Adresse')")
    assert await page.is_visible("main table a[href^='tel:']")
    # the menu folds behind "Menü: Personen" and opens by keyboard
    assert not await page.is_visible("nav.menu-wide")
    summary = page.locator("nav.menu-narrow summary")
    assert await summary.inner_text() == "Menü: Personen"
    assert not await page.is_visible("nav.menu-narrow a[href$='/audit']")
    await summary.focus()
    await page.keyboard.press("Enter")
    assert await page.is_visible("nav.menu-narrow a[href$='/audit']")
    await page.keyboard.press("Enter")  # and closes again
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.click("text=Rosa Luxemburg")
    await page.wait_for_url(f"**/people/{rosa['id']}")
    assert "Mitgliederversammlungsleitung" in await page.inner_text("main")
    assert "an der Haustür" in await page.inner_text("main")  # the linksaktiv panel
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-person.png"), full_page=True)
    await page.focus("#f-add")
    await page.keyboard.type("Zeitung, Infostand")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/people/{rosa['id']}")
    assert "Zeitung" in await page.inner_text("ul.tags")
    await assert_accessible(page)
    await page.click("text=Bearbeiten")
    await page.wait_for_url("**/edit")
    await page.fill("#f-city", "Leipzig")
    await page.select_option("[name='custom_fields.ag']", "Miete")
    await page.click("main form button[type=submit]")
    await page.wait_for_url(f"**/people/{rosa['id']}")
    assert "Leipzig" in await page.inner_text("main")
    assert "Arbeitsgruppe" in await page.inner_text("main")
    await page.goto(page.url + "/edit")
    await assert_accessible(page)
    await page.goto(live_server.url + f"/app/orgs/{district['id']}/people/{rosa['id']}/erase")
    await assert_accessible(page)
