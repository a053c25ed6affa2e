"""The organizer's calling pages in Chromium (issue #25 items 6 and 7), at 1280 x 800 and on a
phone (390 x 844): an organizer creates an assignment with a survey through the forms (the
segment builder for the target, the live Markdown preview) and adds a caller, by keyboard
where it matters; every page passes axe-core (WCAG 2.1 A/AA) and reflows at 320 px."""

from __future__ import annotations

import pytest

from core import db
from core.testing import assert_accessible, console_log_in, console_menu
from tests.plugins.calling.conftest import make_campaign


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
async def test_an_organizer_creates_an_assignment_with_a_survey_and_adds_a_caller(
    client, factory, live_server, console_page, screenshot_dir, viewport
):
    campaign = await make_campaign(factory, callers=1)
    caller = campaign.callers[0]
    page = console_page
    await page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    federal = campaign.federal["id"]
    await console_log_in(page, live_server.url, campaign.organizer.email, federal)
    await console_menu(page, "Anrufe")
    await page.wait_for_url(f"**/app/orgs/{federal}/calling/assignments")
    await assert_accessible(page)
    await page.click("text=Neuer Anrufauftrag")
    await page.wait_for_url("**/calling/assignments/new")
    await assert_accessible(page)

    await page.fill("#f-title", "Mitglieder anrufen")
    await page.focus("#f-instructions")
    await page.keyboard.type("Sei **freundlich**.")
    await page.locator("#preview-body strong", has_text="freundlich").wait_for()  # live

    # the target: "has a phone", added by keyboard (the add menu, Tab, Enter)
    await page.select_option("#f-target-new", "has_phone")
    await page.focus("#f-target-new")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.locator("#n-target-0").wait_for()
    assert await page.input_value("#f-title") == "Mitglieder anrufen"  # nothing typed is lost
    await assert_accessible(page, answered_post=True)

    # a choice question with two choices
    await page.click("button[name=add_question]")
    await page.locator("#q-0").wait_for()
    await page.fill("[id='f-survey.0.text']", "Welche Themen bewegen dich?")
    await page.select_option("[id='f-survey.0.kind']", "choice")
    await page.fill("[id='f-survey.0.options']", "Miete\nPflege")
    await assert_accessible(page, answered_post=True)
    await page.screenshot(
        path=str(screenshot_dir / f"calling-assignment{'' if viewport[0] > 400 else '-phone'}.png"),
        full_page=True,
    )
    await page.click("button[name=save]")
    await page.wait_for_url("**/calling/assignments/*/callers")
    row = await db.fetch_one("SELECT id, survey FROM calling_assignment")
    assert db.json_value(row["survey"])[0]["options"] == ["Miete", "Pflege"]
    await assert_accessible(page)

    # add the caller with a prioritized tag, by keyboard
    await page.select_option("#f-user_id", str(caller.id))
    await page.focus("#f-prioritized_tags")
    await page.keyboard.type("Pflege")
    await page.keyboard.press("Enter")
    await page.locator(".caller h3", has_text=caller.email.split("@")[0]).wait_for()
    assert await page.input_value(f"#f-p-{caller.id}") == "Pflege"
    await assert_accessible(page)

    # the edit form shows it all again
    await page.goto(live_server.url + f"/app/orgs/{federal}/calling/assignments/{row['id']}")
    assert await page.input_value("[id='f-survey.0.text']") == "Welche Themen bewegen dich?"
    assert await page.is_visible("#n-target-0")
    await assert_accessible(page)
