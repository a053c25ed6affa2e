"""Headless Chromium (JavaScript off) against ``orga serve``: sign up through the public form,
follow the confirmation link from the mail caught by a real SMTP server, cancel through the
personal link."""

from __future__ import annotations

import asyncio
import re

import pytest

from core import db
from core.testing import next_page
from tests.plugins.events.conftest import create


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "mail_from": "KV Leipzig <kv@example.org>"}


async def _mail(smtp_sink, timeout: float = 20.0):
    for _ in range(int(timeout * 10)):
        if smtp_sink.messages:
            return smtp_sink.messages[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no mail arrived")


async def test_sign_up_confirm_and_cancel_in_chromium(
    client, setup, live_server, browser_page, smtp_sink, screenshot_dir
):
    event = await create(client, setup, capacity=20, participants_needed=6)
    page = browser_page
    response = await page.goto(f"{live_server.url}/p/events/{setup.org['id']}/{event['id']}")
    assert response.status == 200
    assert await page.locator("h1").inner_text() == "Infostand Mietendeckel"
    await page.screenshot(path=str(screenshot_dir / "events-event-page.png"), full_page=True)
    assert "Ich bin einverstanden" in await page.content()  # the browser asks for German
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.screenshot(path=str(screenshot_dir / "events-event-page-phone.png"), full_page=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone's screen
    await page.get_by_label(re.compile("Vorname|First name")).fill("Rosa")
    await page.fill("#last_name", "Luxemburg")
    await page.fill("#email", "rosa@example.org")
    await page.check("#consent")
    async with next_page(page):
        await page.click("form button[type=submit]")
    assert await page.locator("[role=status]").count() == 1

    mail = await _mail(smtp_sink)
    assert mail["To"].addresses[0].addr_spec == "rosa@example.org"
    body = mail.get_body(("plain",)).get_content()
    confirm = re.search(r"(http://127\.0\.0\.1:\d+/p/events/\S+/confirm/\S+)", body).group(1)
    confirmed = await page.goto(confirm)
    assert confirmed.status == 200
    await page.screenshot(path=str(screenshot_dir / "events-confirmed.png"))
    wording = await db.fetch_one("SELECT wording FROM consent_event")
    assert wording["wording"].startswith("Ich bin einverstanden, dass KV Leipzig")
    row = await db.fetch_one("SELECT status, confirmed_at FROM events_participation")
    assert row["status"] == "signed_up" and row["confirmed_at"] is not None

    async with next_page(page):
        await page.click("#cancel-link")
    async with next_page(page):
        await page.click("form button[type=submit]")
    assert await page.locator("[role=status]").count() == 1
    row = await db.fetch_one("SELECT status FROM events_participation")
    assert row["status"] == "cancelled"
