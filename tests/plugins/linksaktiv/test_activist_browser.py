"""Done when (issue #27): an office creates a call to action for a topic and a region through
the form, sees whom it reaches, publishes it, the weekly digest runs and only the matching
activists get it (real SMTP); the activist list with a filter and the funnel, on a desktop
and a phone; every page passes axe-core and reflows at 320 px."""

from __future__ import annotations

import re

import pytest

from core.context import set_runtime
from core.testing import assert_accessible, console_log_in, next_page
from plugins.linksaktiv import digest
from tests.plugins.linksaktiv.conftest import run_jobs
from tests.plugins.linksaktiv.test_activist_pages import make_activist

CALL_PAGE = re.compile(r".*/calls/\d+$")


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


async def test_office_targets_publishes_and_the_digest_reaches_only_the_matching(
    app, client, factory, party, smtp_sink, live_server, console_page, screenshot_dir
):
    set_runtime(app.state.orga)
    await make_activist(factory, party.leipzig, "Rosa", topics=("rent",), help=("doors",))
    await make_activist(factory, party.leipzig, "Karl", topics=("peace",), source="info_stand")
    await make_activist(factory, party.dresden, "August", topics=("rent",))
    office = await factory.user("organizer", party.state["id"], email="buero@example.org")
    page = console_page
    page.on("dialog", lambda dialog: dialog.accept())
    state = party.state["id"]
    base = f"{live_server.url}/app/orgs/{state}/linksaktiv"
    await console_log_in(page, live_server.url, office.email, state)

    await page.goto(base + "/calls")
    await assert_accessible(page)
    await page.click("a[href$='/calls/new']")
    await page.wait_for_url("**/calls/new")
    await assert_accessible(page)
    await page.fill("#f-title", "Mietendeckel: Unterschriften sammeln")
    await page.fill("#f-text", "Sammle zehn Unterschriften in deiner Nachbarschaft.")
    await page.fill("#f-deadline", "2099-12-31T18:00")
    await page.check("#f-topic-rent")
    await page.select_option("#f-regions", [str(party.leipzig["id"])])
    async with next_page(page):
        await page.click(".call-form button[type=submit]")
    await page.wait_for_url(CALL_PAGE)
    assert "Entwurf" in await page.inner_text("#call-state")
    assert "erreicht 1 Aktive" in await page.inner_text("#reach")  # Rosa only
    await assert_accessible(page)
    async with next_page(page):
        await page.click("form[action$='/publish'] button")
    await page.wait_for_url(CALL_PAGE)
    assert "Veröffentlicht" in await page.inner_text("#call-state")

    await digest.enqueue_digest()
    await run_jobs(app)
    assert [rcpts for _sender, rcpts in smtp_sink.envelopes] == [["rosa@example.org"]]
    mail = smtp_sink.messages[0]
    assert "Mietendeckel" in mail.get_body(("plain",)).get_content()

    await page.goto(base + "/topics")
    await assert_accessible(page)
    await page.goto(base + "/calls")
    await page.click("td.num a")
    await page.wait_for_url("**/results")
    await assert_accessible(page)

    for width, height, name in ((1280, 900, "activists"), (390, 844, "activists-phone")):
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(base + "/activists")
        await page.check("#f-help-doors")
        await page.focus("form.filters button[type=submit]")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/activists?*help=doors*")
        assert await page.locator("#activists tbody tr").count() == 1
        assert "Rosa" in await page.inner_text("#activists")
        await page.screenshot(path=str(screenshot_dir / f"linksaktiv-{name}.png"), full_page=True)
    await assert_accessible(page)

    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(base + "/funnel")
    cells = page.locator("#funnel-totals tbody td.num")
    assert await cells.first.inner_text() == "3"
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "linksaktiv-funnel.png"), full_page=True)
