"""The segment builder in Chromium (issue #24): an organizer finds a person through the
search and a filter by keyboard alone, the count follows the conditions live (JavaScript on),
a wrong condition shows its error beside the field; every state passes axe-core (WCAG 2.1
A/AA) and reflows at 320 px."""

from __future__ import annotations

from core.testing import assert_accessible, console_log_in


async def test_search_and_a_filter_by_keyboard_with_a_live_count(
    client, factory, live_server, console_page, screenshot_dir
):
    district = await factory.org("KV Leipzig")
    user = await factory.user("organizer", district["id"])
    await factory.person(
        district["id"], first_name="Rosa", last_name="Luxemburg", member_status="member"
    )
    await factory.person(
        district["id"], first_name="Rosa", last_name="Anders", member_status="contact"
    )
    await factory.person(
        district["id"], first_name="Karl", last_name="Liebknecht", member_status="member"
    )
    page = console_page
    await console_log_in(page, live_server.url, user.email, district["id"])
    await page.goto(live_server.url + f"/app/orgs/{district['id']}/people")
    await assert_accessible(page)

    # add a "member status" condition: the add menu and its button, by keyboard
    await page.focus("#f-w")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "f-w-new"
    offered = await page.eval_on_selector_all(
        "#f-w-new option", "options => options.map(o => o.value)"
    )
    for _ in range(offered.index("member_status")):
        await page.keyboard.press("ArrowDown")
    assert await page.input_value("#f-w-new") == "member_status"
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/people?w=all&w.0=member_status#n-w-0")
    await assert_accessible(page)

    # tick "member": the count follows without reloading the page
    await page.focus("#n-w-0")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.value") == "member"
    await page.keyboard.press("Space")
    await page.locator("#segment-count", has_text="2 Personen").wait_for()
    assert "/people?w=all&w.0=member_status#" in page.url  # no reload

    # search for "rosa" together with the condition
    await page.focus("#f-q")
    await page.keyboard.type("rosa")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/people?q=rosa*")
    table = await page.inner_text("main table")
    assert "Rosa Luxemburg" in table and "Anders" not in table and "Karl" not in table
    assert "2 Personen" in await page.inner_text("#segment-count")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-segments.png"), full_page=True)

    # keep it as a segment, by keyboard
    await page.focus("#f-name")
    await page.keyboard.type("Mitglieder")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/people?q=rosa*")
    assert "Mitglieder" in await page.inner_text(".flash")
    await assert_accessible(page)

    # a wrong date shows its error beside the field
    await page.goto(
        live_server.url
        + f"/app/orgs/{district['id']}/people?w=all&w.0=created&w.0.after=2026-13-45"
    )
    assert await page.get_attribute("#f-w-0-after", "aria-invalid") == "true"
    assert await page.is_visible("#f-w-0-after-error")
    await assert_accessible(page)

    # every filter type's inputs, core's and the modules', in a nested group: accessible too
    await factory.enable(district["id"], "calling", "events", "mailings", "linksaktiv")
    await page.goto(live_server.url + f"/app/orgs/{district['id']}/people")
    kinds = await page.eval_on_selector_all(
        "#f-w-new optgroup:first-of-type option", "options => options.map(o => o.value)"
    )
    assert {"event_participation", "calling_outcome", "mailing_clicked"} <= set(kinds)
    query = "w=any&w.0=not" + "".join(f"&w.0.{n}={kind}" for n, kind in enumerate(kinds))
    await page.goto(live_server.url + f"/app/orgs/{district['id']}/people?{query}")
    assert await page.locator("fieldset.condition").count() == len(kinds)
    await assert_accessible(page)
