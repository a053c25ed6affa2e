"""Public event pages follow the module switch of each unit (issue 21, item 13)."""

from __future__ import annotations

import re

import pytest

from core import db
from core.jobs.worker import Worker
from core.orgs.services import set_module
from tests.plugins.events.conftest import create

FORM = {
    "first_name": "Rosa",
    "last_name": "Luxemburg",
    "email": "rosa@example.org",
    "phone": "",
    "consent": "yes",
    "website": "",
}


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


async def test_subtree_lists_leave_out_units_where_events_is_off(client, setup, factory):
    child = await factory.org("OV Connewitz", parent=setup.org["id"])
    grandchild = await factory.org("Basis Süd", parent=child["id"])
    for unit, title in ((child, "Verteilaktion Connewitz"), (grandchild, "Kiezfest Süd")):
        base = f"/api/orgs/{unit['id']}/events"
        await create(client, type(setup)(unit, setup.organizer, base), title=title)
    url = f"/p/events/{setup.org['id']}"
    shown = await client.get(url, params={"subtree": "true"})
    assert "Verteilaktion Connewitz" in shown.text and "Kiezfest Süd" in shown.text
    feed = await client.get(f"{url}/feed.ics", params={"subtree": "true"})
    await set_module(child["id"], "events", False)  # and so for the unit below it
    for path in ("", "/events.json", "/feed.ics"):
        page = await client.get(url + path, params={"subtree": "true"})
        assert page.status_code == 200
        assert "Verteilaktion" not in page.text and "Kiezfest" not in page.text
    again = await client.get(
        f"{url}/feed.ics",
        params={"subtree": "true"},
        headers={"if-none-match": feed.headers["etag"]},
    )
    assert again.status_code == 200  # the cached feed is not handed out as still current
    await set_module(grandchild["id"], "events", True)
    back = await client.get(url, params={"subtree": "true"})
    assert "Kiezfest Süd" in back.text and "Verteilaktion" not in back.text


async def test_confirming_needs_the_module_but_cancelling_does_not(client, setup, app, smtp_sink):
    event = await create(client, setup)
    posted = await client.post(f"/p/events/{setup.org['id']}/{event['id']}/signup", data=FORM)
    assert posted.status_code == 200, posted.text
    await Worker(app.state.orga.job_handlers()).drain()
    [mail] = smtp_sink.messages
    body = mail.get_body(("plain",)).get_content()
    confirm_link = re.search(r"http://testserver\.local(/p/events/\S+/confirm/\S+)", body).group(1)
    cancel_link = re.search(r"http://testserver\.local(/p/events/\S+/cancel/\S+)", body).group(1)
    await set_module(setup.org["id"], "events", False)
    assert (await client.get(confirm_link)).status_code == 404
    row = await db.fetch_one("SELECT status, confirmed_at FROM events_participation")
    assert row == {"status": "signed_up", "confirmed_at": None}
    # withdrawing stays possible (GDPR Art. 7(3)), whatever the unit switched
    assert (await client.post(cancel_link)).status_code == 200
    row = await db.fetch_one("SELECT status FROM events_participation")
    assert row["status"] == "cancelled"
