"""Opens and clicks (only with tracking on), segment filters, and the GDPR hooks."""

from __future__ import annotations

import re

import pytest
from msgspec import structs

from core import db
from tests.plugins.mailings.conftest import add_people, draft, drain


async def _sent_mailing(client, unit, app, count=2, **extra):
    ids = await add_people(unit["org"]["id"], count)
    response = await client.post(
        unit["base"] + "/", json=draft(unit["org"]["id"], **extra), headers=unit["admin"].headers
    )
    mailing = response.json()
    sent = await client.post(
        f"{unit['base']}/{mailing['id']}/send",
        json={"confirm": True},
        headers=unit["admin"].headers,
    )
    assert sent.status_code == 202
    await drain(app)
    return mailing, ids


@pytest.fixture
def tracking(app):
    settings = app.state.orga.settings
    app.state.orga.settings = structs.replace(
        settings, module_config={"mailings": {"tracking": True}}
    )
    yield
    app.state.orga.settings = settings


async def test_without_tracking_links_are_plain_and_nothing_is_counted(
    client, unit, app, smtp_sink
):
    mailing, _ = await _sent_mailing(
        client, unit, app, body="Hier [lesen](https://example.org/zeitung)."
    )
    html = smtp_sink.messages[0].get_body(("html",)).get_content()
    assert 'href="https://example.org/zeitung"' in html
    assert "/p/mailings/o/" not in html and "/p/mailings/c/" not in html
    got = await client.get(f"{unit['base']}/{mailing['id']}", headers=unit["admin"].headers)
    assert got.json()["stats"]["opened"] is None and got.json()["stats"]["clicked"] is None


async def test_tracking_counts_opens_and_signed_clicks(client, unit, app, smtp_sink, tracking):
    mailing, _ = await _sent_mailing(
        client, unit, app, body="Hier [lesen](https://example.org/zeitung)."
    )
    html = smtp_sink.messages[0].get_body(("html",)).get_content()
    assert "https://example.org/zeitung" not in html  # rewritten to the signed redirect
    clicks = re.findall(r'href="http://testserver\.local(/p/mailings/c/[^"]+)"', html)
    assert len(clicks) == 2  # the body link and the call-to-action button
    [pixel] = re.findall(r'src="http://testserver\.local(/p/mailings/o/[^"]+)"', html)
    opened = await client.get(pixel)
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    redirect = await client.get(clicks[0])
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "https://example.org/zeitung"
    await client.get(clicks[0])  # a second click counts once
    forged = await client.get(clicks[0][:-4] + "AAAA")
    assert forged.status_code == 404
    stats = (
        await client.get(f"{unit['base']}/{mailing['id']}", headers=unit["admin"].headers)
    ).json()["stats"]
    assert stats["opened"] == 1 and stats["clicked"] == 1


async def test_segment_filters_received_clicked_unsubscribed(client, unit, app, smtp_sink):
    mailing, _ = await _sent_mailing(client, unit, app, count=3)
    recipients = await db.fetch(
        "SELECT id, person_id FROM mailings_recipient WHERE mailing_id = {} ORDER BY id",
        mailing["id"],
    )
    await db.execute(
        "UPDATE mailings_recipient SET clicked_at = updated_at WHERE id = {}",
        recipients[0]["id"],
    )
    await db.execute(
        "UPDATE mailings_recipient SET unsubscribed_at = updated_at WHERE id = {}",
        recipients[1]["id"],
    )

    async def count(kind: str) -> int:
        segment = {"filters": [{"type": kind, "mailing_id": mailing["id"]}]}
        response = await client.post(
            f"/api/orgs/{unit['org']['id']}/segments/preview",
            json=segment,
            headers=unit["admin"].headers,
        )
        assert response.status_code == 200, response.text
        return response.json()["count"]

    assert await count("mailing_received") == 3
    assert await count("mailing_clicked") == 1
    assert await count("mailing_unsubscribed") == 1


async def test_export_erase_and_merge(client, unit, app, smtp_sink, factory):
    mailing, ids = await _sent_mailing(client, unit, app, count=2)
    registry = app.state.orga.registry

    async def export(person_id):
        results = await registry.gather_each("person_export", person_id=person_id)
        return {name.rsplit(".", 1)[-1]: value for name, value in results}

    [row] = (await export(ids[0]))["mailings"]["recipients"]
    assert row["mailing_id"] == mailing["id"] and row["state"] == "sent"
    # merge: the kept person already got the mailing, so the merged one's row goes
    await registry.gather("people_merged", kept_id=ids[0], merged_id=ids[1])
    rows = await db.fetch("SELECT person_id FROM mailings_recipient ORDER BY id")
    assert rows == [{"person_id": ids[0]}]
    # erase: the row stays for the statistics, without the person or address
    await registry.gather("person_erase", person_id=ids[0])
    rows = await db.fetch("SELECT person_id, email, state FROM mailings_recipient")
    assert rows == [{"person_id": None, "email": None, "state": "sent"}]
    assert "mailings" not in await export(ids[0])
