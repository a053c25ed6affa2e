"""iCalendar feeds (parsed with icalendar) and JSON for embedding."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar

from core.tables import utcnow
from tests.core.test_media_types import strict_media_type
from tests.plugins.events.conftest import create


async def test_feed_holds_the_public_events_and_tells_of_cancelled_ones(client, setup):
    public = [
        await create(client, setup, title="Infostand"),
        await create(
            client,
            setup,
            title="Demo",
            type="demo",
            location={"name": "Augustusplatz", "address": "Leipzig", "lat": 51.34, "lon": 12.38},
        ),
    ]
    await create(client, setup, title="Intern", visibility="internal")
    await create(client, setup, title="Mitglieder", visibility="members")
    await create(client, setup, title="Entwurf", state="draft")
    cancelled = await create(client, setup, title="Abgesagt")
    await client.patch(
        f"{setup.base}/{cancelled['id']}",
        json={"state": "cancelled"},
        headers=setup.organizer.headers,
    )
    response = await client.get(f"/p/events/{setup.org['id']}/feed.ics")
    assert strict_media_type(response.headers["content-type"])[1] == {"charset": "utf-8"}
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert sorted(str(e["SUMMARY"]) for e in events) == ["Abgesagt", "Demo", "Infostand"]
    status = {str(e["SUMMARY"]): (str(e["STATUS"]), int(e["SEQUENCE"])) for e in events}
    assert status["Abgesagt"] == ("CANCELLED", 1) and status["Demo"] == ("CONFIRMED", 0)
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 3 and all(u.endswith("@testserver.local") for u in uids)
    assert not any(u.startswith("event-") for u in uids)  # unique per deployment, not per id
    demo = next(e for e in events if str(e["SUMMARY"]) == "Demo")
    assert demo.decoded("DTSTART") == datetime.fromisoformat(public[1]["start_at"])
    assert demo["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(demo["LOCATION"]) == "Augustusplatz, Leipzig"
    assert (demo["GEO"].latitude, demo["GEO"].longitude) == (51.34, 12.38)


async def test_single_event_file_and_cancelled_status(client, setup):
    event = await create(client, setup, title="Verteilaktion")
    url = f"/p/events/{setup.org['id']}/{event['id']}/event.ics"
    [item] = Calendar.from_ical((await client.get(url)).content).walk("VEVENT")
    assert str(item["STATUS"]) == "CONFIRMED" and int(item["SEQUENCE"]) == 0
    start = utcnow().replace(microsecond=0) + timedelta(days=5)
    await client.patch(
        f"{setup.base}/{event['id']}",
        json={"start_at": start.isoformat(), "end_at": (start + timedelta(hours=1)).isoformat()},
        headers=setup.organizer.headers,
    )
    [moved] = Calendar.from_ical((await client.get(url)).content).walk("VEVENT")
    assert int(moved["SEQUENCE"]) == 1 and moved.decoded("DTSTART") == start
    await client.patch(
        f"{setup.base}/{event['id']}",
        json={"state": "cancelled"},
        headers=setup.organizer.headers,
    )
    cancelled = await client.get(url)
    [gone] = Calendar.from_ical(cancelled.content).walk("VEVENT")
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 2
    assert cancelled.headers["cache-control"].startswith("public")
    unchanged = await client.get(url, headers={"if-none-match": cancelled.headers["etag"]})
    assert unchanged.status_code == 304
    internal = await create(client, setup, visibility="internal")
    hidden = await client.get(f"/p/events/{setup.org['id']}/{internal['id']}/event.ics")
    assert hidden.status_code == 404


async def test_json_for_embedding(client, setup):
    event = await create(client, setup, title="Haustür Grünau", type="canvassing")
    await create(client, setup, title="Intern", visibility="internal")
    response = await client.get(f"/p/events/{setup.org['id']}/events.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    [item] = response.json()["events"]
    assert item["title"] == "Haustür Grünau" and item["type"] == "canvassing"
    assert item["url"] == f"http://testserver.local/p/events/{setup.org['id']}/{event['id']}"
    assert item["location"]["name"] == "Marktplatz"


async def test_feed_follows_every_change_and_answers_304_when_unchanged(client, setup):
    event = await create(client, setup, title="Infostand")
    url = f"/p/events/{setup.org['id']}/feed.ics"

    async def summaries():
        response = await client.get(url)
        return response, sorted(
            str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT")
        )

    first, titles = await summaries()
    assert titles == ["Infostand"]
    again = await client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    await client.patch(
        f"{setup.base}/{event['id']}",
        json={"title": "Infostand Wohnen"},
        headers=setup.organizer.headers,
    )
    changed, titles = await summaries()
    assert titles == ["Infostand Wohnen"] and changed.headers["etag"] != first.headers["etag"]
    other = await create(client, setup, title="Demo")
    assert (await summaries())[1] == ["Demo", "Infostand Wohnen"]
    before = (await summaries())[0].headers["etag"]
    await client.patch(
        f"{setup.base}/{other['id']}", json={"state": "cancelled"}, headers=setup.organizer.headers
    )
    cancelled, titles = await summaries()  # still listed, now as cancelled, under a new ETag
    assert titles == ["Demo", "Infostand Wohnen"] and cancelled.headers["etag"] != before
    demo = next(
        e for e in Calendar.from_ical(cancelled.content).walk("VEVENT") if e["SUMMARY"] == "Demo"
    )
    assert str(demo["STATUS"]) == "CANCELLED"
