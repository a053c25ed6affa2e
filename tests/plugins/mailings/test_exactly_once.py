"""A send of 5,000 recipients interrupted twice (a worker process killed with SIGKILL, then
one stopped with SIGTERM) and resumed delivers each recipient exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta

from core import db
from core.tables import utcnow
from core.testing import settings_environ
from tests.plugins.mailings.conftest import add_people, draft, drain

COUNT = int(os.environ.get("MAILINGS_EXACTLY_ONCE_COUNT", "5000"))


async def _worker_until(orga_settings, smtp_sink, received: int) -> subprocess.Popen:
    """``orga worker`` in its own process, running until the sink holds ``received`` mails."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    environ.update(settings_environ(orga_settings), ORGA_CONFIG="/nonexistent")
    process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter and module
        [sys.executable, "-m", "core", "worker", "--concurrency", "16"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(12_000):
        if len(smtp_sink.raw) >= received:
            return process
        assert process.poll() is None, "the worker process died on its own"
        await asyncio.sleep(0.01)
    process.kill()
    raise AssertionError("the worker made no progress")


async def test_interrupted_send_delivers_each_recipient_exactly_once(
    client, unit, app, smtp_sink, orga_settings
):
    await add_people(unit["org"]["id"], COUNT)
    created = await client.post(
        unit["base"] + "/", json=draft(unit["org"]["id"]), headers=unit["admin"].headers
    )
    mailing_id = created.json()["id"]
    sent = await client.post(
        f"{unit['base']}/{mailing_id}/send",
        json={"confirm": True, "confirm_count": COUNT},
        headers=unit["admin"].headers,
    )
    assert sent.status_code == 202 and sent.json()["stats"]["queued"] == COUNT

    # 1. a third of the way the worker process is killed: jobs in flight are cut off wherever
    #    they are (mid-SMTP, between delivery and bookkeeping), nothing is released
    killed = await _worker_until(orga_settings, smtp_sink, COUNT // 3)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    stuck = await db.fetch("SELECT id FROM job WHERE status = 'running'")
    # their leases run out (we do not wait the five minutes)
    await db.execute(
        "UPDATE job SET lease_expires_at = {} WHERE status = 'running'",
        utcnow() - timedelta(seconds=1),
    )

    # 2. two thirds of the way a new worker is stopped gracefully (SIGTERM)
    stopped = await _worker_until(orga_settings, smtp_sink, 2 * COUNT // 3)
    stopped.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(stopped.wait, 30) == 0
    assert len(smtp_sink.raw) < COUNT

    # 3. resumed: the rest goes out
    await drain(app)
    message_ids: dict[str, set[str]] = defaultdict(set)
    for message in smtp_sink.messages:
        message_ids[message["To"].addresses[0].addr_spec].add(message["Message-ID"])
    assert len(message_ids) == COUNT  # nobody skipped
    assert all(len(ids) == 1 for ids in message_ids.values())  # one mail per person
    # SMTP leaves one window: a mail the server accepted just before the kill, whose row was
    # not updated yet, goes out again WITH THE SAME Message-ID (receivers drop it). Only the
    # jobs in flight at the kill can do that.
    assert len(smtp_sink.raw) - COUNT <= len(stuck)
    states = await db.fetch("SELECT state, COUNT(*) AS n FROM mailings_recipient GROUP BY state")
    assert states == [{"state": "sent", "n": COUNT}]
    mailing = await client.get(f"{unit['base']}/{mailing_id}", headers=unit["admin"].headers)
    assert mailing.json()["state"] == "sent"
    assert mailing.json()["stats"]["delivered"] == COUNT
    assert await db.fetch("SELECT id FROM job WHERE status <> 'done'") == []
