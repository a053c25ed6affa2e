"""The unit's sender identity in the console (issue #24, unit administration): listed on the
administration page where the module is on, set through the same service as the JSON route
(audited), errors beside the field, inherited from above, 404 where the module is off."""

from __future__ import annotations

from core import db
from core.orgs.services import set_module
from core.testing import assert_accessible, console_log_in, console_menu, next_page
from tests.core.console.helpers import console_login, csrf_of


async def test_an_admin_sets_the_units_sender_on_the_administration_page(client, factory):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    connewitz = await factory.org("OV Connewitz", parent=leipzig["id"])
    await factory.enable(root["id"], "mailings")
    admin = await factory.user("admin", leipzig["id"])
    await console_login(client, admin.email)
    base = f"/app/orgs/{leipzig['id']}"
    admin_page = await client.get(f"{base}/admin")
    assert f'href="{base}/mailings/sender"' in admin_page.text

    form = await client.get(f"{base}/mailings/sender")
    assert form.status_code == 200 and "kein Absender" in form.text
    bad = await client.post(
        f"{base}/mailings/sender",
        data={"name": "KV Leipzig", "address": "keine-adresse", "_csrf": csrf_of(form.text)},
    )
    assert bad.status_code == 422 and 'id="f-address-error"' in bad.text
    assert 'value="KV Leipzig"' in bad.text
    assert await db.fetch("SELECT org_id FROM mailings_sender") == []
    saved = await client.post(
        f"{base}/mailings/sender",
        data={
            "name": "KV Leipzig",
            "address": "kv@leipzig.example.org",
            "reply_to": "",
            "_csrf": csrf_of(form.text),
        },
    )
    assert saved.status_code == 303
    api = await client.get(
        f"/api/orgs/{leipzig['id']}/mailings/sender",
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert api.json()["address"] == "kv@leipzig.example.org"
    audit = await db.fetch(
        "SELECT user_id FROM audit_log WHERE action = 'mailings.sender_set' AND org_id = {}",
        leipzig["id"],
    )
    assert audit == [{"user_id": admin.id}]

    below = await client.get(f"/app/orgs/{connewitz['id']}/mailings/sender")
    assert below.status_code == 200 and "kv@leipzig.example.org" in below.text

    await set_module(connewitz["id"], "mailings", False)
    off = await client.get(f"/app/orgs/{connewitz['id']}/admin")
    assert "mailings/sender" not in off.text
    assert (await client.get(f"/app/orgs/{connewitz['id']}/mailings/sender")).status_code == 404


async def test_without_the_send_permission_there_is_no_sender_page(client, factory):
    leipzig = await factory.org("KV Leipzig")
    await factory.enable(leipzig["id"], "mailings")
    organizer = await factory.user("organizer", leipzig["id"])
    await console_login(client, organizer.email)
    page = await client.get(f"/app/orgs/{leipzig['id']}/mailings/sender")
    assert page.status_code == 403


async def test_the_sender_page_by_keyboard_in_a_browser(client, factory, live_server, console_page):
    leipzig = await factory.org("KV Leipzig")
    await factory.enable(leipzig["id"], "mailings")
    admin = await factory.user("admin", leipzig["id"])
    page = console_page
    await console_log_in(page, live_server.url, admin.email, leipzig["id"])
    await console_menu(page, "Verwaltung")
    await page.click("text=Absender für Mails")
    await page.wait_for_url("**/mailings/sender")
    await assert_accessible(page)
    await page.focus("#f-name")
    await page.keyboard.type("KV Leipzig")
    await page.keyboard.press("Tab")
    await page.keyboard.type("kv@leipzig.example.org")
    async with next_page(page):
        await page.keyboard.press("Enter")
    assert "Gespeichert" in await page.inner_text("[role=status]")
    row = await db.fetch_one("SELECT address FROM mailings_sender")
    assert row["address"] == "kv@leipzig.example.org"
