"""The import and merge pages in Chromium (issue #24): an organizer imports a 1,000-row file
(upload → confirm the mapping → check → start), watches it finish and sees the result; then
merges two duplicates found on the duplicates page. Every page passes axe-core (WCAG 2.1
A/AA) and reflows at 320 px."""

from __future__ import annotations

import re

from core import db
from core.people.tables import PersonImport
from core.testing import assert_accessible, console_log_in, console_menu, next_page
from tests.core.test_imports import people_csv


async def test_an_organizer_imports_1000_rows_and_watches_it_finish(
    client, factory, live_server, console_page, screenshot_dir, tmp_path
):
    district = await factory.org("KV Leipzig")
    user = await factory.user("organizer", district["id"])
    content, broken = people_csv(1000, broken_every=100)
    upload = tmp_path / "mitglieder.csv"
    upload.write_bytes(content)
    page = console_page
    page.on("dialog", lambda dialog: dialog.accept())
    await console_log_in(page, live_server.url, user.email, district["id"])

    await console_menu(page, "Import")
    await page.wait_for_url("**/people/imports")
    await assert_accessible(page)
    await page.set_input_files("#f-file", str(upload))
    await page.focus("#f-file")
    await page.keyboard.press("Tab")  # to the upload button
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/people/imports/\d+$"))
    import_url = page.url
    assert "Die Datei ist hochgeladen" in await page.inner_text("[role=status]")
    assert await page.input_value("#map-2") == "email"  # the suggested mapping
    await assert_accessible(page)

    await page.select_option("#map-6", "")  # the tags are left out
    await page.focus("main form button[type=submit]")
    await page.keyboard.press("Enter")  # check every row
    await page.wait_for_selector("#check-h")
    figures = await page.inner_text(".check .figures")
    assert "1.000" in figures and f"{1000 - len(broken)}" in figures
    assert await page.input_value("#map-6") == ""  # the choice stays
    await assert_accessible(page, answered_post=True)
    await page.screenshot(path=str(screenshot_dir / "console-import-check.png"), full_page=True)

    await page.focus("button[formaction$='/confirm']")
    async with next_page(page):
        await page.keyboard.press("Enter")  # start
    await page.wait_for_url(import_url)
    await assert_accessible(page)  # progress while it runs, or already the result
    await page.wait_for_selector("#result-h", timeout=60_000)  # console.js follows it
    result = await page.inner_text("main")
    assert f"{1000 - len(broken)}\nPersonen angelegt" in result
    assert "Zeilen, die nicht importiert wurden" in result
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-import.png"), full_page=True)
    count = await db.fetch_one("SELECT COUNT(*) AS n FROM person")
    assert count == {"n": 1000 - len(broken)}

    await page.click("a.button >> text=Weitere Datei importieren")
    await page.wait_for_url("**/people/imports")
    assert "mitglieder.csv" in await page.inner_text("main table")

    # an import that waits for a worker (none will come: no job is queued for it) shows its
    # progress and keeps following it
    waiting = await PersonImport.insert(
        PersonImport(
            org=district["id"],
            filename="warteschlange.csv",
            format="csv",
            stored_path="/nonexistent.upload",
            status="queued",
        )
    ).run()
    await page.goto(
        f"{live_server.url}/app/orgs/{district['id']}/people/imports/{waiting[0]['id']}"
    )
    assert await page.is_visible("progress#import-bar")
    assert "Wartet" in await page.inner_text("#import-bar-text")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-import-progress.png"))


async def test_an_organizer_merges_two_duplicates(
    client, factory, live_server, console_page, screenshot_dir
):
    district = await factory.org("KV Leipzig")
    user = await factory.user("organizer", district["id"])
    rosa = await factory.person(
        district["id"],
        first_name="Rosa",
        last_name="Luxemburg",
        email="rosa@example.org",
        phones=["+4934112345678"],
        member_status="member",
    )
    twin = await factory.person(
        district["id"],
        first_name="Rosalia",
        last_name="Luxemburg",
        email="rosa@example.org",
        city="Leipzig",
        phones=["+4915112345678"],
    )
    page = console_page
    page.on("dialog", lambda dialog: dialog.accept())  # "Merge these people? …"
    await console_log_in(page, live_server.url, user.email, district["id"])
    await console_menu(page, "Personen")
    await page.wait_for_url("**/people")
    await page.click("text=Mögliche Doppelte")
    await page.wait_for_url("**/people/duplicates")
    assert "rosa@example.org" in await page.inner_text("main table")
    await assert_accessible(page)
    await page.click("text=Vergleichen und zusammenführen")
    await page.wait_for_url("**/people/merge?ids=*")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-merge.png"), full_page=True)
    # keyboard: the first name's choice moves from Rosa to Rosalia with an arrow key
    await page.focus(f"#keep-first_name-{rosa['id']}")
    await page.keyboard.press("ArrowRight")
    assert await page.is_checked(f"#keep-first_name-{twin['id']}")
    await page.focus("main form button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/people/{rosa['id']}")
    assert "zusammengeführt" in await page.inner_text("[role=status]")
    main = await page.inner_text("main")
    assert "Rosalia Luxemburg" in await page.inner_text("h1") and "Leipzig" in main
    assert await db.fetch_one("SELECT id FROM person WHERE id = {}", twin["id"]) is None
