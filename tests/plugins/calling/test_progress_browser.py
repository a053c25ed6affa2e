"""The organizer's calling pages in Chromium (issue #25): the progress page follows a call
made meanwhile by itself, the survey results are read and downloaded, the call log and the
follow-ups inbox are used, and the progress page is read on a phone (390 x 844); every page
passes axe-core and reflows at 320 px."""

from __future__ import annotations

from io import BytesIO

from playwright.async_api import expect

from core.testing import assert_accessible, console_log_in, next_page
from tests.plugins.calling.conftest import make_campaign, next_call, open_assignment, report


async def test_organizer_watches_progress_reads_results_and_downloads_them(
    client, factory, live_server, console_page, screenshot_dir
):
    campaign = await make_campaign(factory)
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    for outcome in ("reached", "no_answer"):
        call = await next_call(client, campaign, assignment["id"], caller)
        await report(
            client,
            campaign,
            call["call_id"],
            caller,
            outcome=outcome,
            answers={"topics": ["Miete", "Frieden"], "comment": "Mehr Bus, bitte"},
            organizer_action="Bitte Flyer schicken" if outcome == "reached" else None,
        )
    page = console_page
    federal = campaign.federal["id"]
    await console_log_in(page, live_server.url, campaign.organizer.email, federal)
    base = f"{live_server.url}/app/orgs/{federal}/calling/assignments/{assignment['id']}"

    await page.goto(base + "/progress")
    assert await page.inner_text("#fig-calls") == "2"
    await assert_accessible(page)
    # a caller reports a call meanwhile: the page shows it without being reloaded
    call = await next_call(client, campaign, assignment["id"], caller)
    await report(client, campaign, call["call_id"], caller, outcome="busy")
    await expect(page.locator("#fig-calls")).to_have_text("3", timeout=25_000)
    assert "Besetzt" in await page.inner_text("#h-outcomes + .chart-pair table")
    await page.screenshot(path=str(screenshot_dir / "calling-progress.png"), full_page=True)

    await page.click("a[href$='/results']")
    await page.wait_for_url("**/results")
    assert "Welche Themen bewegen dich?" in await page.inner_text("main")
    assert "Mehr Bus, bitte" in await page.inner_text("main")
    await assert_accessible(page)
    async with page.expect_download() as waiting:
        await page.click("a[href$='format=xlsx']")
    download = await waiting.value
    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(open(await download.path(), "rb").read()), read_only=True)
    rows = list(sheet.active.iter_rows(values_only=True))
    assert rows[0][-2:] == ("topics", "comment") and len(rows) == 4
    assert rows[1][-2] == "Miete; Frieden"

    await page.goto(base + "/log")
    await page.select_option("#f-outcome", "busy")
    await page.focus("form.filters button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/log?*outcome=busy*")
    assert await page.locator("tbody tr").count() == 1
    await assert_accessible(page)

    await page.goto(f"{live_server.url}/app/orgs/{federal}/calling/followups")
    assert "Bitte Flyer schicken" in await page.inner_text("main")
    await assert_accessible(page)
    await page.fill("textarea[name=note]", "Flyer ist unterwegs")
    async with next_page(page):
        await page.click("li.followup form:nth-of-type(2) button[type=submit]")
    await page.wait_for_url("**/calling/followups*")
    assert "Nichts nachzuverfolgen." in await page.inner_text("main")
    await assert_accessible(page)

    # on a phone: the figures first, the charts and tables below, nothing wider than the screen
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(base + "/progress")
    figures = await page.locator("dl.figures").bounding_box()
    assert figures and figures["width"] <= 390
    assert await page.inner_text("#fig-calls") == "3"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await assert_accessible(page)
