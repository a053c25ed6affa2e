"""SQLite when another process holds the write lock: 503 after a bounded wait, recovery at
once after, readiness and shutdown (issue #22, item 2)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import msgspec
import pytest

from core import db
from core.problems import Problem
from core.testing import TEST_PASSWORD, LiveServer

BUSY_MS = 500

# another process (a CLI import, a script) that takes SQLite's write lock and keeps it until
# its stdin closes
_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


@pytest.fixture(autouse=True)
def sqlite_only(orga_backend):
    if orga_backend != "sqlite":
        pytest.skip("SQLite's one write lock; PostgreSQL locks rows, not the database")


@pytest.fixture
def orga_overrides():
    return {"db_busy_timeout_ms": BUSY_MS}


@pytest.fixture
def database_path(orga_settings) -> str:
    return orga_settings.database_url.removeprefix("sqlite:///")


@contextlib.contextmanager
def write_lock_held(path: str) -> Iterator[Callable[[], None]]:
    """Hold SQLite's write lock on ``path`` from a second process until the block ends or the
    function it gives is called."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )

    def release() -> None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)

    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        yield release
    finally:
        release()


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "urn:orga:problem:database-busy"
    assert int(response.headers["retry-after"]) >= 1


async def test_a_failed_begin_gives_back_the_lock_and_the_connection(client, database_path):
    with write_lock_held(database_path):
        started = time.monotonic()
        with pytest.raises(Problem) as caught:
            async with db.transaction():
                await db.execute("DELETE FROM audit_log")
        assert caught.value.status == 503
        assert caught.value.headers["Retry-After"]
        assert time.monotonic() - started < 3 * BUSY_MS / 1000
        with pytest.raises(Problem):  # a statement on its own too
            await db.execute("DELETE FROM audit_log")
    async with asyncio.timeout(2):  # the lock and the connection came back
        for _ in range(10):
            async with db.transaction():
                await db.fetch("SELECT 1 AS one")
        await db.execute("DELETE FROM audit_log")


async def test_login_works_at_once_after_another_process_held_the_lock(
    client, factory, database_path
):
    user = await factory.user(role=None)
    right = {"email": user.email, "password": TEST_PASSWORD}
    wrong = {"email": user.email, "password": "not the password"}
    with write_lock_held(database_path):
        started = time.monotonic()
        assert_busy(await client.post("/api/auth/login", json=wrong))
        assert_busy(await client.post("/api/auth/login", json=right))
        # writers queued in this process are bounded too
        answers = await asyncio.gather(
            *(client.post("/api/auth/login", json=right) for _ in range(4))
        )
        for answer in answers:
            assert_busy(answer)
        assert time.monotonic() - started < 6 * 2 * BUSY_MS / 1000
        assert (await client.get("/api/health/ready")).status_code == 503
        assert (await client.get("/api/health")).json()["database"] == "busy"
        assert (await client.get("/api/health/live")).status_code == 200
    assert (await client.get("/api/health/ready")).status_code == 200
    async with asyncio.timeout(2):
        response = await client.post("/api/auth/login", json=right)
    assert response.status_code == 201, response.text


async def test_a_begin_that_succeeds_after_its_caller_gave_up_is_rolled_back(client, database_path):
    async def write() -> None:
        async with db.transaction():
            await db.execute("DELETE FROM audit_log")

    with write_lock_held(database_path) as release:
        task = asyncio.create_task(write())
        await asyncio.sleep(0.1)  # BEGIN waits for the other process in a worker thread
        task.cancel()
        # the other process lets go while BEGIN still waits: it goes through in its thread
        releasing = asyncio.create_task(asyncio.to_thread(release))
        with pytest.raises(asyncio.CancelledError):
            await task
        await releasing
    await asyncio.sleep(0.3)
    other = sqlite3.connect(database_path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # no pooled connection kept a transaction open
        other.execute("ROLLBACK")
    finally:
        other.close()
    async with asyncio.timeout(2):
        await write()


async def test_an_audited_read_is_refused_while_its_row_cannot_be_written(
    client, factory, database_path
):
    org = await factory.org()
    admin = await factory.user("admin", org["id"])
    person = await factory.person(org["id"])
    url = f"/api/orgs/{org['id']}/people/{person['id']}"
    assert (await client.get(url, headers=admin.headers)).status_code == 200
    with write_lock_held(database_path):
        assert_busy(await client.get(url, headers=admin.headers))
    async with asyncio.timeout(2):
        assert (await client.get(url, headers=admin.headers)).status_code == 200


async def test_ready_while_this_process_holds_the_write_lock(client):
    async with db.transaction():
        await db.execute("DELETE FROM audit_log")
        async with asyncio.timeout(2):
            assert (await client.get("/api/health/ready")).status_code == 200


async def test_serve_stops_on_sigterm_while_writes_wait_for_another_process(
    client, factory, orga_settings, database_path
):
    user = await factory.user(role=None)
    server = LiveServer(
        msgspec.structs.replace(orga_settings, db_busy_timeout_ms=1000), worker="off"
    )
    await asyncio.to_thread(server.start)
    assert server.process is not None
    try:
        with write_lock_held(database_path):
            wrong = {"email": user.email, "password": "not the password"}
            right = {"email": user.email, "password": TEST_PASSWORD}
            first = await asyncio.to_thread(
                httpx.post, server.url + "/api/auth/login", json=wrong, timeout=30
            )
            assert_busy(first)
            answers: list[int] = []

            def log_in() -> None:
                with contextlib.suppress(httpx.HTTPError):
                    response = httpx.post(server.url + "/api/auth/login", json=right, timeout=30)
                    answers.append(response.status_code)

            callers = [threading.Thread(target=log_in) for _ in range(3)]
            for caller in callers:
                caller.start()
            await asyncio.sleep(0.3)  # the logins wait for the lock
            server.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            await asyncio.to_thread(server.process.wait, 8)
            assert time.monotonic() - started < 5
            for caller in callers:
                await asyncio.to_thread(caller.join, 5)
            assert answers and set(answers) <= {503}
    finally:
        await asyncio.to_thread(server.stop)
