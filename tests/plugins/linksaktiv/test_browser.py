"""Done when: Chromium signs up, the confirmation mail is followed, the person lands in the
right district and the personal page shows the matching call to action."""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes

import pytest

from core import db
from core.testing import next_page
from tests.plugins.linksaktiv.conftest import api


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


async def wait_for_mail(smtp_sink, address: str, timeout: float = 20.0):
    for _ in range(int(timeout * 10)):
        for raw in smtp_sink.raw:
            message = message_from_bytes(raw)
            if address in message["To"]:
                return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail to {address}")


def text_of(message) -> str:
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
    return message.get_payload(decode=True).decode()


async def test_sign_up_confirm_and_personal_page_in_chromium(
    client, party, smtp_sink, live_server, browser_page, screenshot_dir
):
    created = await client.post(
        api(party.leipzig, "/calls"),
        json={
            "title": "Mieterversammlung in Connewitz",
            "kind": "offline",
            "text": "Komm vorbei und bring Nachbarn mit.",
            "starts_at": "2026-01-01T00:00:00Z",
            "topics": ["rent"],
        },
        headers=party.admin.headers,
    )
    assert created.status_code == 201
    page = browser_page
    response = await page.goto(live_server.url + "/p/linksaktiv/join")
    assert response.status == 200
    await page.fill("#first_name", "Clara")
    await page.fill("#last_name", "Zetkin")
    await page.fill("#email", "clara@example.org")
    await page.fill("#postal_code", "04107")
    await page.check("input[name=topics][value=rent]")
    await page.check("input[name=help][value=newspapers]")
    await page.check("input[name=consent]")
    await page.set_viewport_size({"width": 390, "height": 1400})
    await page.screenshot(path=str(screenshot_dir / "linksaktiv-join.png"), full_page=True)
    async with next_page(page):
        await page.click("button[type=submit]")
    assert "/p/linksaktiv/join" in page.url
    assert await page.locator("[role=status]").count() == 1

    mail = await wait_for_mail(smtp_sink, "clara@example.org")
    link = re.search(r"https?://\S+/p/linksaktiv/confirm/\S+", text_of(mail)).group(0)
    confirmed = await page.goto(link)
    assert confirmed.status == 200
    person = await db.fetch_one(
        "SELECT p.home_org_id, a.status FROM person p "
        "JOIN linksaktiv_activist a ON a.person_id = p.id WHERE p.email = 'clara@example.org'"
    )
    assert person == {"home_org_id": party.leipzig["id"], "status": "confirmed"}

    async with next_page(page):
        await page.click("a[href*='/p/linksaktiv/me']")
    assert "Mieterversammlung in Connewitz" in await page.content()
    await page.screenshot(path=str(screenshot_dir / "linksaktiv-me.png"), full_page=True)
    async with next_page(page):
        await page.click("form:has(input[value=done]) button")
    assert await page.locator("text=Erledigt. Danke!").count() == 1
    done = await db.fetch_one("SELECT COUNT(*) AS n FROM linksaktiv_call_done")
    assert done["n"] == 1
