"""The volunteer's call screen in Chromium (issue #25), on a phone (390 x 844) and a desktop
(1280 x 800): a caller logs in, opens My calls, starts the queue, signs the callee up for an
event of their home unit from the call card, reports every outcome once by keyboard (number
keys choose, Enter saves and goes on), skips one with a reason and meets the empty-queue
explanation; axe and 320 px reflow on every page."""

from __future__ import annotations

import pytest

from core import db
from core.testing import assert_accessible, console_log_in, next_page
from tests.plugins.calling.conftest import make_campaign, open_assignment
from tests.plugins.events.conftest import event_body

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


async def _reserved() -> dict:
    return await db.fetch_one(
        "SELECT c.id, c.person_id, p.home_org_id FROM calling_call c "
        "JOIN person p ON p.id = c.person_id WHERE c.state = 'reserved'"
    )


async def _save_by_keyboard(page, key: str) -> None:
    """Choose the outcome with its number key and save with Enter on the choice."""
    await page.locator("h1").click()  # focus outside any text field
    await page.keyboard.press(key)
    assert await page.is_checked(f"input[name=outcome][data-key='{key}']")
    async with next_page(page):
        await page.keyboard.press("Enter")


@pytest.mark.parametrize("size", list(SIZES))
async def test_a_caller_calls_through_the_queue(
    client, factory, live_server, console_page, screenshot_dir, size
):
    campaign = await make_campaign(factory, people_per_district=4, callers=1)
    await factory.enable(campaign.federal["id"], "events")
    await open_assignment(
        client,
        campaign,
        instructions="## Begrüßung\n\nStell dich vor und frag nach den **Themen**.",
        show_earlier_notes=True,
    )
    for unit in (campaign.district_a, campaign.federal):
        made = await client.post(
            f"/api/orgs/{unit['id']}/events",
            json=event_body(title=f"Treffen {unit['name']}"),
            headers=campaign.organizer.headers,
        )
        assert made.status_code == 201, made.text
    page = console_page
    width, height = SIZES[size]
    await page.set_viewport_size({"width": width, "height": height})
    caller = campaign.callers[0]
    district = campaign.district_a["id"]
    await console_log_in(page, live_server.url, caller.email, district)

    await page.goto(f"{live_server.url}/app/orgs/{district}/calling/mine")
    assert "100.000 Anrufe" in await page.inner_text("main")
    await assert_accessible(page)
    await page.click("main h2 a")
    await page.wait_for_url("**/call")
    await assert_accessible(page)
    async with next_page(page):
        await page.click("text=Anrufen beginnen")
    first = await _reserved()
    assert first["home_org_id"] == district
    assert "Begrüßung" in await page.inner_text(".instructions h2")
    assert await page.locator("a[href^='tel:+49']").count() == 1
    await assert_accessible(page)
    if size == "phone":
        await page.screenshot(path=str(screenshot_dir / "calling-call-phone.png"))

    # saved without an outcome: the page again, the error beside the choices
    async with next_page(page):
        await page.click("button[value=next]")
    assert await page.is_visible("#f-outcome-error")
    await assert_accessible(page, answered_post=True)

    # sign the callee up for their home unit's event, from the call card
    await page.fill("#f-notes", "Kommt gern zum Treffen")
    signup = page.locator("form.section-form", has_text="Treffen Kreis A")
    async with next_page(page):
        await signup.locator("button").click()
    assert "Für den Termin angemeldet." in await page.inner_text("[role=status]")
    assert await page.input_value("#f-notes") == "Kommt gern zum Treffen"  # kept in the tab
    row = await db.fetch_one(
        "SELECT status, source FROM events_participation WHERE person_id = {}",
        first["person_id"],
    )
    assert row == {"status": "signed_up", "source": "call"}
    await assert_accessible(page)

    # every outcome once: 1 reached … 8 does not want calls
    for key in "12345678":
        call = await _reserved()
        if key == "5":  # call back: "later today" is chosen already
            await page.locator("h1").click()
            await page.keyboard.press(key)
            assert await page.is_visible("#cb-later_today")
            async with next_page(page):
                await page.keyboard.press("Enter")
        elif key == "7":  # wrong number, with the right one
            await page.locator("h1").click()
            await page.keyboard.press(key)
            await page.fill("#f-corrected_phone", "+49 30 5550000")
            async with next_page(page):
                await page.press("#f-corrected_phone", "Enter")
        else:
            await _save_by_keyboard(page, key)
        reported = await db.fetch_one("SELECT outcome FROM calling_call WHERE id = {}", call["id"])
        assert reported["outcome"] is not None, key
    outcomes = await db.fetch(
        "SELECT outcome FROM calling_call WHERE state = 'reported' ORDER BY id"
    )
    assert [o["outcome"] for o in outcomes] == [
        "reached",
        "no_answer",
        "busy",
        "voicemail",
        "call_back",
        "not_available",
        "wrong_number",
        "do_not_call",
    ]
    # the wrong number's person is back with the right number: skip them once, then report
    again = await _reserved()
    await page.click(".skip-call summary")
    await page.fill("#f-skip_reason", "Später nochmal")
    async with next_page(page):
        await page.click("button[value=skip]")
    assert (await _reserved())["person_id"] == again["person_id"]
    await _save_by_keyboard(page, "2")

    # nobody left now: the page says why and when
    assert page.url.endswith("?empty=1")
    text = await page.inner_text("main")
    assert "Gerade ist niemand anzurufen" in text
    assert "Kürzlich angerufen, Pause vor dem nächsten Versuch: 5" in text
    assert "Warten auf den gewünschten Rückruf: 1" in text
    assert "Die nächste Person kann ab" in text
    await assert_accessible(page)
