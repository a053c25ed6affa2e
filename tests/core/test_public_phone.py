"""Every public page fits a phone: headless Chromium (JavaScript off, German) walks through
the events, linksaktiv, mailings and password-reset pages at 320 and 390 px and finds
nothing wider than the screen, with long German words in titles, names and texts."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest

from core import db
from core.jobs.worker import Worker
from core.orgs.postcodes import set_postcodes
from core.orgs.services import update_unit
from core.tables import utcnow
from core.testing import next_page
from tests.plugins.mailings.conftest import add_people

UNIT = "Kreisverband Sächsische Schweiz-Osterzgebirge"
TITLE = "Mitgliederversammlung des Kreisverbandes"
EMAIL = "rosa.luxemburg-mitgliederversammlung@example.org"
WIDTHS = (320, 390)

# Elements whose right edge is beyond the screen (what to blame when the page is too wide).
_TOO_WIDE = """() => Array.from(document.querySelectorAll("body *"))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName.toLowerCase() + ": " + (e.textContent || "").trim().slice(0, 60))
  .slice(0, 5)"""


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


async def fits(page, name: str, screenshot_dir) -> None:
    """The page shown now is no wider than a 320 px and a 390 px phone."""
    assert await page.locator("html").get_attribute("lang") == "de"
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        scroll, inner = await page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        if width == WIDTHS[0]:
            await page.screenshot(path=str(screenshot_dir / f"phone-{name}.png"), full_page=True)
        assert scroll <= inner, f"{name} at {width} px: {await page.evaluate(_TOO_WIDE)}"


async def link_in_mail(smtp_sink, address: str, pattern: str, timeout: float = 20.0) -> str:
    """The first link matching ``pattern`` in a plain-text mail to ``address``."""
    for _ in range(int(timeout * 10)):
        for mail in smtp_sink.messages:
            if address in str(mail["To"]):
                body = mail.get_body(("plain",)).get_content()
                found = re.search(r"https?://\S+" + pattern + r"\S*", body)
                if found:
                    return found.group(0)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail to {address} with a link like {pattern}")


async def make_party(client, factory) -> dict[str, Any]:
    """A federal root with a district (long name) where events, linksaktiv and mailings are
    on; an event, a call to action and a newspaper edition with long German words."""
    root = await factory.org("Bundesverband")
    unit = await factory.org(UNIT, parent=root["id"])
    await factory.enable(root["id"], "events", "linksaktiv", "mailings")
    await set_postcodes(unit["id"], [("01000", "01999")])
    office = {
        "address": "Geschäftsstelle, Dohnaische Straße 1, 01796 Pirna",
        "opening_hours": "Mo-Fr",
    }
    await update_unit(unit["id"], {"office": office})
    admin = await factory.user("admin", root["id"])
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    event = await client.post(
        f"/api/orgs/{unit['id']}/events/",
        json={
            "title": TITLE,
            "type": "meeting",
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=3)).isoformat(),
            "description": "Tagesordnung: Rechenschaftsbericht, Haushaltsplanberatung, "
            "Delegiertenwahl zur Landesvertreterversammlung.",
            "location": {
                "name": "Mehrgenerationenbegegnungsstätte",
                "address": "Bahnhofstraße 12, 01796 Pirna",
            },
            "visibility": "public",
            "state": "published",
            "capacity": 80,
        },
        headers=admin.headers,
    )
    assert event.status_code == 201, event.text
    call = await client.post(
        f"/api/orgs/{unit['id']}/linksaktiv/calls",
        json={
            "title": "Unterschriftensammlung für das Mietendeckelvolksbegehren",
            "kind": "visit_link",
            "text": "Landtagswahlprogrammbeteiligungsveranstaltung am Samstag.",
            "link": "https://example.org/kampagnen/mietendeckel/unterschriftensammlung-2026",
            "starts_at": "2026-01-01T00:00:00Z",
            "topics": ["rent"],
        },
        headers=admin.headers,
    )
    assert call.status_code == 201, call.text
    edition = await client.post(
        f"/api/orgs/{root['id']}/linksaktiv/editions",
        json={"title": "Wahlkampfzeitung Landtagswahl", "date": "2030-06-01", "copies": 1000},
        headers=admin.headers,
    )
    assert edition.status_code == 201, edition.text
    return {
        "root": root,
        "unit": unit,
        "admin": admin,
        "event": event.json(),
        "edition": edition.json(),
    }


async def test_every_public_page_fits_a_phone(
    client, app, factory, smtp_sink, live_server, browser_page, screenshot_dir
):
    party = await make_party(client, factory)
    unit_id, event_id = party["unit"]["id"], party["event"]["id"]
    page, base = browser_page, live_server.url

    # linksaktiv: join (empty, then filled), confirm, personal page, new link, broken link
    await page.goto(f"{base}/p/linksaktiv/join")
    await fits(page, "linksaktiv-join", screenshot_dir)
    async with next_page(page):
        await page.click("button[type=submit]")
    await fits(page, "linksaktiv-join-errors", screenshot_dir)
    await page.fill("#first_name", "Rosa")
    await page.fill("#last_name", "Luxemburg-Liebknecht")
    await page.fill("#email", EMAIL)
    await page.fill("#postal_code", "01796")
    await page.check("input[name=topics][value=rent]")
    await page.check("input[name=consent]")
    async with next_page(page):
        await page.click("button[type=submit]")
    await fits(page, "linksaktiv-join-sent", screenshot_dir)
    await page.goto(await link_in_mail(smtp_sink, EMAIL, "/p/linksaktiv/confirm/"))
    await fits(page, "linksaktiv-confirmed", screenshot_dir)
    async with next_page(page):
        await page.click("a[href*='/p/linksaktiv/me']")
    me_url = page.url
    person = await db.fetch_one("SELECT id FROM person WHERE email = {}", EMAIL)
    ordered = await client.post(
        f"/api/orgs/{party['root']['id']}/linksaktiv/orders",
        json={"person_id": person["id"], "edition_id": party["edition"]["id"], "quantity": 60},
        headers=party["admin"].headers,
    )
    assert ordered.status_code == 201, ordered.text
    await page.goto(f"{base}/p/linksaktiv/link")
    await fits(page, "linksaktiv-link", screenshot_dir)
    await page.fill("#email", EMAIL)
    async with next_page(page):
        await page.click("button[type=submit]")
    await fits(page, "linksaktiv-link-sent", screenshot_dir)
    await page.goto(f"{base}/p/linksaktiv/me?t=kaputt")
    await fits(page, "linksaktiv-link-broken", screenshot_dir)

    # events: list, event page (empty form, then filled), confirm, my events, cancel, missing
    await page.goto(f"{base}/p/events/{unit_id}")
    await fits(page, "events-list", screenshot_dir)
    await page.goto(f"{base}/p/events/{unit_id}/{event_id}")
    await fits(page, "events-event", screenshot_dir)
    async with next_page(page):
        await page.click("form button[type=submit]")
    await fits(page, "events-event-errors", screenshot_dir)
    await page.fill("#first_name", "Rosa")
    await page.fill("#last_name", "Luxemburg-Liebknecht")
    await page.fill("#email", EMAIL)
    await page.check("#consent")
    async with next_page(page):
        await page.click("form button[type=submit]")
    await fits(page, "events-signed-up", screenshot_dir)
    await page.goto(await link_in_mail(smtp_sink, EMAIL, r"/p/events/\d+/\d+/confirm/"))
    await fits(page, "events-confirmed", screenshot_dir)
    cancel_url = await page.locator("#cancel-link").get_attribute("href")
    await page.goto(me_url)
    content = await page.content()  # "my events" comes from the events module
    assert TITLE in content and "upcoming" not in content
    await fits(page, "linksaktiv-me", screenshot_dir)
    await page.goto(cancel_url)
    await fits(page, "events-cancel", screenshot_dir)
    async with next_page(page):
        await page.click("form button[type=submit]")
    await fits(page, "events-cancelled", screenshot_dir)
    await page.goto(f"{base}/p/events/{unit_id}/999999")
    await fits(page, "events-missing", screenshot_dir)

    # mailings: the unsubscribe page (ask, done) and a broken unsubscribe link
    await add_people(unit_id, 1)
    mailing = await client.post(
        f"/api/orgs/{unit_id}/mailings/",
        json={
            "subject": "Einladung zur Mitgliederversammlung",
            "sender_name": UNIT,
            "sender_address": "kv@example.org",
            "body": "Liebe Genossinnen und Genossen, kommt zahlreich!",
            "audience": {"filters": [{"type": "org", "org_id": unit_id}]},
        },
        headers=party["admin"].headers,
    )
    assert mailing.status_code == 201, mailing.text
    sent = await client.post(
        f"/api/orgs/{unit_id}/mailings/{mailing.json()['id']}/send",
        json={"confirm": True},
        headers=party["admin"].headers,
    )
    assert sent.status_code < 300, sent.text
    await Worker(app.state.orga.job_handlers()).drain()
    newsletter = next(m for m in smtp_sink.messages if m["List-Unsubscribe"])
    unsubscribe = newsletter["List-Unsubscribe"].strip("<>").removeprefix("http://testserver.local")
    await page.goto(base + unsubscribe)
    await fits(page, "mailings-unsubscribe", screenshot_dir)
    async with next_page(page):
        await page.click("form button[type=submit]")
    await fits(page, "mailings-unsubscribed", screenshot_dir)
    await page.goto(f"{base}/p/mailings/unsubscribe/kaputt")
    await fits(page, "mailings-unsubscribe-broken", screenshot_dir)

    # password reset: the form and its error
    await page.goto(f"{base}/p/auth/reset/{'x' * 30}")
    await fits(page, "password-reset", screenshot_dir)
    await page.fill("#new_password", "kurz")
    await page.click("button[type=submit]")  # the browser refuses it (minlength): no request
    await fits(page, "password-reset-error", screenshot_dir)

    # linksaktiv again: deleting oneself ends on the "deleted" page
    await page.goto(me_url)
    await page.check("input[name=sure]")
    async with next_page(page):
        await page.click("form:has(input[value=delete]) button")
    await fits(page, "linksaktiv-deleted", screenshot_dir)
