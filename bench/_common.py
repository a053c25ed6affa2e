"""Shared helpers for the benchmark scripts: a throw-away database and a runtime on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

from core import db
from core._pgserver import PostgresServer, find_pg_bin
from core.app import Runtime, build_runtime
from core.settings import load_settings


@contextlib.contextmanager
def database_url(backend: str) -> Iterator[str]:
    """A fresh, empty database: a SQLite file or a throw-away PostgreSQL server."""
    with tempfile.TemporaryDirectory(prefix="orga-bench-") as tmp:
        if backend == "sqlite":
            yield f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}"
            return
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise SystemExit("PostgreSQL server binaries not found")
        server = PostgresServer(bin_dir).start()
        try:
            with ThreadPoolExecutor(1) as pool:  # callers may already run an event loop
                pool.submit(asyncio.run, _create(server.url)).result()
            yield server.url_for("bench")
        finally:
            server.stop()


async def _create(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    await conn.execute("CREATE DATABASE bench")
    await conn.close()


@contextlib.asynccontextmanager
async def open_runtime(url: str, **overrides: object) -> AsyncIterator[Runtime]:
    """A migrated runtime on ``url`` with the engine open."""
    var = tempfile.mkdtemp(prefix="orga-bench-var-")
    settings = load_settings(
        environ={},
        database_url=url,
        var_dir=var,
        env="test",
        secret_key="bench-secret-" + "x" * 32,
        worker="off",
        **overrides,
    )
    runtime = build_runtime(settings)
    await db.open_engine(runtime.engine)
    try:
        await db.migrate()
        yield runtime
    finally:
        await db.close_engine(runtime.engine)
