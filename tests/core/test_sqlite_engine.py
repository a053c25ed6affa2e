"""The pooled SQLite engine: concurrent writers, long reads off the loop, transactions."""

from __future__ import annotations

import asyncio
import time

import pytest

from core import db
from core._sqlite import PooledSQLiteEngine
from core.orgs.tables import OrgUnit

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(autouse=True)
def sqlite_only(orga_backend):
    if orga_backend != "sqlite":
        pytest.skip("engine internals of SQLite; the PostgreSQL run covers asyncpg")


async def test_engine_is_pooled_and_in_wal_mode():
    assert isinstance(db.engine(), PooledSQLiteEngine)
    rows = await db.fetch("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"


async def test_concurrent_write_transactions_do_not_lose_updates():
    await db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    await db.execute("INSERT INTO counter (id, n) VALUES (1, 0)")

    async def increment():
        async with db.transaction():
            row = await db.fetch_one("SELECT n FROM counter WHERE id = 1")
            await asyncio.sleep(0)  # let others interleave
            await db.execute("UPDATE counter SET n = {} WHERE id = 1", row["n"] + 1)

    await asyncio.gather(*(increment() for _ in range(50)))
    assert (await db.fetch_one("SELECT n FROM counter WHERE id = 1"))["n"] == 50


async def test_failed_transaction_rolls_back_and_releases_the_connection():
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await OrgUnit.insert(OrgUnit(name="ghost", kind="x", path="/ghost/")).run()
            raise RuntimeError("abort")
    assert not await OrgUnit.exists().where(OrgUnit.name == "ghost").run()
    for _ in range(10):  # every pooled connection came back
        async with db.transaction():
            await db.fetch("SELECT 1 AS one")


async def test_long_read_leaves_the_event_loop_responsive():
    await db.execute("CREATE TABLE numbers (n INTEGER)")
    await db.execute(
        "INSERT INTO numbers WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
        "WHERE n < 300000) SELECT n FROM s"
    )
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    heavy = "SELECT COUNT(*) AS c FROM numbers a JOIN numbers b ON b.n = a.n * 2 WHERE a.n % 7 = 0"
    result = await db.fetch(heavy)
    elapsed = time.perf_counter() - started
    task.cancel()
    assert result[0]["c"] > 0
    # the query ran for a while; the loop kept ticking because it was moved to a thread
    assert elapsed > 0.05
    assert ticks >= elapsed / 0.005 * 0.3
