"""A production-shaped deployment on loopback: two ``orga serve`` processes and two
``orga worker`` processes on one PostgreSQL database. Callers, public sign-ups with their mails
and a mailing run at once across both servers; nothing is duplicated and nothing is lost."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core import db
from core.testing import LiveServer, eventually, settings_environ
from tests.plugins.calling.conftest import bulk_people, make_campaign
from tests.plugins.mailings.conftest import add_people

SIGNUPS = 60
READERS = 80
TARGETS = 300


@pytest.fixture
def orga_overrides(smtp_sink):
    return {
        "smtp_url": smtp_sink.url,
        "module_config": {"events": {"signup_limit": 100_000}},
        "cache": True,  # as in production: the processes cache and drop through NOTIFY
    }


def _workers(settings, count: int) -> list[subprocess.Popen]:
    env = {"PATH": "/usr/bin:/bin", **settings_environ(settings), "ORGA_CONFIG": "/nonexistent"}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--concurrency", "4"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


async def _queue_empty(timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM job WHERE status IN ('queued', 'running') AND run_at <= {}",
            datetime.now(UTC),
        )
        if row["n"] == 0:
            return
        await asyncio.sleep(0.3)
    left = await db.fetch(
        "SELECT kind, status, attempts, last_error, run_at FROM job "
        "WHERE status IN ('queued', 'running') AND run_at <= {} LIMIT 5",
        datetime.now(UTC),
    )
    raise AssertionError(f"the job queue did not drain: {left}")


async def _changes_reach_the_other_server(servers, campaign, assignment_id: int) -> None:
    """Both servers cache the token and the roster; a logout and a roster change made through
    one are honoured by the other within moments (NOTIFY), not after the cache's lifetime."""
    caller = campaign.callers[0]
    a, b = (httpx.AsyncClient(base_url=s.url, headers=caller.headers) for s in servers)
    async with a, b:
        assert (await b.get("/api/me")).status_code == 200
        next_url = f"/api/orgs/{campaign.district_a['id']}/calling/assignments/{assignment_id}/next"
        organizer = {"Authorization": campaign.organizer.headers["Authorization"]}
        removed = await a.delete(
            f"/api/orgs/{campaign.federal['id']}/calling/assignments/{assignment_id}"
            f"/callers/{caller.id}",
            headers=organizer,
        )
        assert removed.status_code == 204, removed.text

        async def off_roster() -> bool:
            return (await b.post(next_url)).status_code == 403

        assert await eventually(off_roster) < 1.0
        assert (await a.post("/api/auth/logout")).status_code == 204

        async def refused() -> bool:
            return (await b.get("/api/me")).status_code == 401

        assert await eventually(refused) < 1.0


async def test_two_servers_two_workers(client, factory, orga_settings, orga_backend, smtp_sink):
    if orga_backend != "postgres":
        pytest.skip("several server processes need PostgreSQL (SQLite runs one process)")
    campaign = await make_campaign(factory, people_per_district=0, callers=10)
    await bulk_people([campaign.district_a["id"], campaign.district_b["id"]], TARGETS)
    await factory.enable(campaign.federal["id"], "events")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    event = await client.post(
        f"/api/orgs/{campaign.district_a['id']}/events/",
        json={
            "title": "Haustürgespräche",
            "type": "canvassing",
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=2)).isoformat(),
            "visibility": "public",
            "state": "published",
        },
        headers=campaign.organizer.headers,
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    assignment = await client.post(
        campaign.url() + "/assignments",
        json={
            "title": "Rückrufaktion",
            "target": {"filters": [{"type": "org", "org_id": campaign.federal["id"]}]},
            "start_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        },
        headers=campaign.organizer.headers,
    )
    assignment_id = assignment.json()["id"]
    for caller in campaign.callers:
        await client.post(
            campaign.url() + f"/assignments/{assignment_id}/callers",
            json={"user_id": caller.id},
            headers=campaign.organizer.headers,
        )

    await factory.enable(campaign.federal["id"], "mailings")
    readers = await add_people(campaign.district_b["id"], READERS)
    sender = await factory.user("admin", campaign.district_b["id"])  # holds mailings.send
    mailing = await client.post(
        f"/api/orgs/{campaign.district_b['id']}/mailings/",
        json={
            "subject": "Hallo {{ person.first_name }}",
            "sender_name": "Kreis B",
            "sender_address": "kv-b@example.org",
            "body": "Komm am Samstag zur Aktion!",
            "audience": {"filters": [{"type": "org", "org_id": campaign.district_b["id"]}]},
        },
        headers=sender.headers,
    )
    assert mailing.status_code == 201, mailing.text
    mailing_id = mailing.json()["id"]

    servers = [LiveServer(orga_settings, worker="off") for _ in range(2)]
    workers = _workers(orga_settings, 2)
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))
        handed: list[int] = []

        async def call(index: int, caller) -> None:
            base = servers[index % 2].url + f"/api/orgs/{campaign.district_a['id']}/calling"
            async with httpx.AsyncClient(base_url=base, headers=caller.headers) as http:
                previous = None
                while True:
                    body = None
                    if previous is not None:  # half the callers use "save and next"
                        body = {"previous": {"call_id": previous, "report": {"outcome": "reached"}}}
                    response = await http.post(f"/assignments/{assignment_id}/next", json=body)
                    if response.status_code == 204:
                        return
                    assert response.status_code == 200, response.text
                    card = response.json()
                    handed.append(card["person"]["id"])
                    previous = card["call_id"] if index % 4 >= 2 else None
                    if previous is None:
                        done = await http.post(
                            f"/calls/{card['call_id']}/report", json={"outcome": "reached"}
                        )
                        assert done.status_code == 204, done.text

        async def sign_up(index: int) -> None:
            url = servers[index % 2].url
            async with httpx.AsyncClient(base_url=url) as http:
                response = await http.post(
                    f"/p/events/{campaign.district_a['id']}/{event_id}/signup",
                    data={
                        "first_name": f"Gast{index}",
                        "last_name": "Test",
                        "email": f"gast{index}@example.org",
                        "phone": "",
                        "consent": "yes",
                        "website": "",
                    },
                )
                assert response.status_code == 200, response.text[:300]

        async def send_mailing() -> None:
            async with httpx.AsyncClient(base_url=servers[1].url, headers=sender.headers) as http:
                sent = await http.post(
                    f"/api/orgs/{campaign.district_b['id']}/mailings/{mailing_id}/send",
                    json={"confirm": True},
                )
                assert sent.status_code in (200, 201, 202), sent.text

        await asyncio.gather(
            *(call(i, c) for i, c in enumerate(campaign.callers)),
            *(sign_up(i) for i in range(SIGNUPS)),
            send_mailing(),
        )
        await _queue_empty()
        await _changes_reach_the_other_server(servers, campaign, assignment_id)
    finally:
        for server in servers:
            server.stop()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(15)

    assert sorted(handed) == sorted(set(handed)) and len(handed) == TARGETS
    signed = await db.fetch(
        "SELECT p.email FROM events_participation e JOIN person p ON p.id = e.person_id "
        "WHERE e.event_id = {}",
        event_id,
    )
    assert sorted(r["email"] for r in signed) == sorted(
        f"gast{i}@example.org" for i in range(SIGNUPS)
    )
    received = Counter(rcpt for _, rcpts in smtp_sink.envelopes for rcpt in rcpts)
    assert {f"gast{i}@example.org" for i in range(SIGNUPS)} <= set(received)
    reader_mails = {
        r["email"]
        for r in await db.fetch(
            f"SELECT email FROM person WHERE id IN ({', '.join(['{}'] * len(readers))})",
            *readers,
        )
    }
    assert reader_mails <= set(received)  # the mailing reached every reader
    assert all(count == 1 for count in received.values()), received.most_common(3)
