"""The unsubscribe page in a real browser (Chromium, JavaScript off) against ``orga serve``."""

from __future__ import annotations

from core import db
from core.testing import next_page
from tests.plugins.mailings.conftest import add_people, draft, drain


async def test_unsubscribe_page_asks_first_then_unsubscribes_from_all(
    client, unit, app, smtp_sink, live_server, browser_page, screenshot_dir
):
    org_id = unit["org"]["id"]
    [person_id] = await add_people(org_id, 1)
    mailing = (
        await client.post(unit["base"] + "/", json=draft(org_id), headers=unit["admin"].headers)
    ).json()
    await client.post(
        f"{unit['base']}/{mailing['id']}/send",
        json={"confirm": True},
        headers=unit["admin"].headers,
    )
    await drain(app)
    [message] = smtp_sink.messages
    url = message["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://testserver.local")

    page = browser_page
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.goto(live_server.url + path)
    assert await page.locator("html").get_attribute("lang") == "de"
    await page.screenshot(path=str(screenshot_dir / "mailings-unsubscribe-ask.png"))
    withdrawn = "SELECT purpose FROM consent_event WHERE status = 'withdrawn'"
    assert await db.fetch(withdrawn) == []  # looking at the page changes nothing
    unit_choice = page.get_by_role("radio", name="KV Leipzig")
    assert await unit_choice.is_checked()
    assert "Abmelden" in await page.title()
    await page.get_by_role("radio", name="Alle Mailings").check()
    async with next_page(page):
        await page.get_by_role("button", name="Abmelden").click()
    status = page.get_by_role("status")
    assert "keine Mailings mehr" in await status.inner_text()
    await page.screenshot(path=str(screenshot_dir / "mailings-unsubscribe-done.png"))
    assert await db.fetch(withdrawn) == [{"purpose": "general"}]
    row = await db.fetch_one(
        "SELECT unsubscribe_scope FROM mailings_recipient WHERE person_id = {}", person_id
    )
    assert row["unsubscribe_scope"] == "all"
