"""A send of 5,000 recipients interrupted twice (a worker process killed with SIGKILL, then
one stopped with SIGTERM) and resumed delivers each recipient exactly once.

The SMTP server is aiosmtpd in its own process on loopback, storing into a maildir, so the
three workers (two processes, then this one) deliver at full speed.
"""

from __future__ import annotations

import asyncio
import mailbox
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path

import pytest

from core import db
from core._pgserver import free_port
from core.tables import utcnow
from core.testing import settings_environ
from tests.plugins.mailings.conftest import add_people, draft, drain

COUNT = int(os.environ.get("MAILINGS_EXACTLY_ONCE_COUNT", "5000"))


@pytest.fixture
def maildir_sink(tmp_path):
    """aiosmtpd's Mailbox handler in a child process: (SMTP URL, maildir path)."""
    import socket

    port = free_port()
    folder = tmp_path / "received"
    handler = ["-c", "aiosmtpd.handlers.Mailbox", str(folder)]
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", *handler, "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the SMTP server did not start"
            time.sleep(0.1)
    yield f"smtp://127.0.0.1:{port}?starttls=off", folder
    process.terminate()
    process.wait()


@pytest.fixture
def orga_overrides(maildir_sink):
    """Deliver to the SMTP server process."""
    return {"smtp_url": maildir_sink[0], "smtp_pool_size": 8}


def _received(folder: Path) -> int:
    try:
        return len(os.listdir(folder / "new"))
    except FileNotFoundError:
        return 0


async def _worker_until(orga_settings, folder: Path, received: int) -> subprocess.Popen:
    """``orga worker`` in its own process, running until ``received`` mails arrived."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    environ.update(settings_environ(orga_settings), ORGA_CONFIG="/nonexistent")
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "worker", "--concurrency", "16"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(30_000):
        if _received(folder) >= received:
            return process
        assert process.poll() is None, "the worker process died on its own"
        await asyncio.sleep(0.01)
    process.kill()
    raise AssertionError("the worker made no progress")


async def test_interrupted_send_delivers_each_recipient_exactly_once(
    client, unit, app, maildir_sink, orga_settings
):
    folder = maildir_sink[1]
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
    killed = await _worker_until(orga_settings, folder, COUNT // 3)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    in_flight = await db.fetch("SELECT payload FROM job WHERE status = 'running'")
    # their leases run out (we do not wait the five minutes)
    await db.execute(
        "UPDATE job SET lease_expires_at = {} WHERE status = 'running'",
        utcnow() - timedelta(seconds=1),
    )

    # 2. two thirds of the way a new worker is stopped gracefully (SIGTERM)
    stopped = await _worker_until(orga_settings, folder, 2 * COUNT // 3)
    stopped.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(stopped.wait, 60) == 0
    assert _received(folder) < COUNT

    # 3. resumed: the rest goes out
    await drain(app)
    message_ids: dict[str, set[str]] = defaultdict(set)
    raw = 0
    for message in mailbox.Maildir(folder, create=False):
        raw += 1
        [(_, address)] = getaddresses([message["To"]])
        message_ids[address].add(message["Message-ID"])
    assert len(message_ids) == COUNT  # nobody skipped
    assert all(len(ids) == 1 for ids in message_ids.values())  # one Message-ID per person
    # SMTP leaves one window: a mail the server accepted just before the kill, whose row was
    # not updated yet, goes out again WITH THE SAME Message-ID (receivers drop it). Only the
    # jobs in flight at the kill can do that, each for the one mail it was sending.
    assert raw - COUNT <= len(in_flight)
    states = await db.fetch("SELECT state, COUNT(*) AS n FROM mailings_recipient GROUP BY state")
    assert states == [{"state": "sent", "n": COUNT}]
    mailing = await client.get(f"{unit['base']}/{mailing_id}", headers=unit["admin"].headers)
    assert mailing.json()["state"] == "sent"
    assert mailing.json()["stats"]["delivered"] == COUNT
    assert await db.fetch("SELECT id FROM job WHERE status <> 'done'") == []
