"""Shared helpers for the benchmark scripts: a throw-away database and a runtime on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

from core import db
from core._pgserver import PostgresServer, find_pg_bin, free_port
from core.runtime import Runtime, build_runtime
from core.settings import load_settings


@contextlib.contextmanager
def database_url(backend: str) -> Iterator[str]:
    """A fresh, empty database: a SQLite file or a throw-away PostgreSQL server, reached
    through its Unix socket as an app on the database's machine would be."""
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
            yield server.socket_url_for("bench")
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


def start_server(
    url: str, workers: int, var: str, root: str | None = None, **extra_env: str
) -> tuple[subprocess.Popen, int]:
    """``orga serve --workers N`` (production settings, worker off) on a free port, once it
    answers ``/api/health``; ``root`` is the copy of orga to run (default: this one),
    ``extra_env`` adds ``ORGA_*`` variables."""
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    env.update(
        ORGA_DATABASE_URL=url,
        ORGA_VAR_DIR=var,
        ORGA_ENV="production",
        ORGA_SECRET_KEY="bench-" + "k" * 40,
        ORGA_WORKER="off",
        ORGA_CONFIG="/nonexistent",
        **extra_env,
    )
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # JSON access lines are still formatted, as in production
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc, port
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("server did not start")


LOAD_GENERATOR_NICE = -10


def favour_load_generator() -> int:
    """Run this process (the load generator, standing in for clients on other machines) ahead
    of the servers and the database it shares the cores with, so its own waits for a core are
    not counted as server latency. Call it after starting the servers (children inherit the
    priority). Returns the niceness in effect (0 where lowering it is not permitted)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, LOAD_GENERATOR_NICE)
    except PermissionError:
        return os.getpriority(os.PRIO_PROCESS, 0)
    return LOAD_GENERATOR_NICE
