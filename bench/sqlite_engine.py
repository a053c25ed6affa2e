"""Point-select throughput: stock Piccolo SQLiteEngine vs orga's PooledSQLiteEngine.

Run: ``.venv/bin/python bench/sqlite_engine.py [--rows 10000] [--seconds 3]``. Prints JSON.
Each engine answers the same queries on the same file: a Piccolo query-builder select by
primary key (``Table.select().where(id == x).first()``) and the same select as raw SQL through
the engine, once from one task and once from 32 concurrent tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import tempfile
import time

from piccolo.columns import Integer, Varchar
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString
from piccolo.table import Table

from core._sqlite import PooledSQLiteEngine


class Item(Table, tablename="bench_item"):
    """A row to select."""

    name = Varchar(length=100)
    number = Integer()


def prepare(path: str, rows: int) -> None:
    """Create and fill the table with raw sqlite3."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute(
        "CREATE TABLE bench_item (id INTEGER PRIMARY KEY, name VARCHAR(100), number INTEGER)"
    )
    con.executemany(
        "INSERT INTO bench_item (name, number) VALUES (?, ?)",
        ((f"item {i}", i) for i in range(rows)),
    )
    con.commit()
    con.close()


async def run_for(seconds: float, tasks: int, query, rows: int) -> float:
    """Run ``query(id)`` from ``tasks`` concurrent tasks for ``seconds``; return queries/s."""
    deadline = time.perf_counter() + seconds
    done = 0
    rng = random.Random(1)

    async def worker():
        nonlocal done
        while time.perf_counter() < deadline:
            row = await query(rng.randrange(1, rows + 1))
            assert row
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return done / (time.perf_counter() - start)


async def measure(engine, seconds: float, rows: int) -> dict[str, float]:
    """Builder and raw point selects, sequential and with 32 tasks."""
    Item._meta.db = engine

    async def builder(pk: int):
        return await Item.select().where(Item.id == pk).first().run()

    async def raw(pk: int):
        return await engine.run_querystring(
            QueryString("SELECT id, name, number FROM bench_item WHERE id = {}", pk)
        )

    return {
        "builder_1_task": round(await run_for(seconds, 1, builder, rows)),
        "builder_32_tasks": round(await run_for(seconds, 32, builder, rows)),
        "raw_1_task": round(await run_for(seconds, 1, raw, rows)),
        "raw_32_tasks": round(await run_for(seconds, 32, raw, rows)),
    }


class NoDatabaseEngine(SQLiteEngine):
    """Answers every query with one fixed row: the cost of Piccolo's query building alone."""

    async def run_querystring(self, querystring, in_pool=False):
        querystring.compile_string(engine_type=self.engine_type)
        return [{"id": 1, "name": "item", "number": 1}]


async def builder_ceiling(path: str, seconds: float, rows: int) -> float:
    """Builder selects per second when the database costs nothing."""
    Item._meta.db = NoDatabaseEngine(path=path)

    async def builder(pk: int):
        return await Item.select().where(Item.id == pk).first().run()

    return await run_for(seconds, 1, builder, rows)


def raw_sqlite3(path: str, seconds: float, rows: int) -> float:
    """The ceiling: plain sqlite3 on one connection, no asyncio, no Piccolo."""
    con = sqlite3.connect(path)
    rng = random.Random(1)
    deadline = time.perf_counter() + seconds
    done = 0
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        con.execute(
            "SELECT id, name, number FROM bench_item WHERE id = ?", (rng.randrange(1, rows + 1),)
        ).fetchall()
        done += 1
    con.close()
    return done / (time.perf_counter() - start)


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.sqlite3")
        prepare(path, args.rows)
        stock = await measure(SQLiteEngine(path=path), args.seconds, args.rows)
        pooled_engine = PooledSQLiteEngine(path=path)
        pooled = await measure(pooled_engine, args.seconds, args.rows)
        pooled_engine.close()
        ceiling = raw_sqlite3(path, args.seconds, args.rows)
        piccolo_ceiling = await builder_ceiling(path, args.seconds, args.rows)
    result = {
        "benchmark": "sqlite_point_select",
        "unit": "queries/s",
        "stock_piccolo": stock,
        "orga_pooled": pooled,
        "raw_sqlite3_ceiling": round(ceiling),
        "piccolo_builder_ceiling_without_database": round(piccolo_ceiling),
        "speedup": {k: round(pooled[k] / stock[k], 1) for k in stock},
    }
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
