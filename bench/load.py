"""Mixed load against one deployment: callers, people searches, public sign-ups and public
event pages at the same time, over HTTP, loopback only, bounded in time.

Run: ``.venv/bin/python bench/load.py [--backend postgres|sqlite] [--people 1000000]
[--seconds 30] [--workers 2]``. Fills a database (people, a call assignment with a queue of
``--targets``, 20 public events), starts ``orga serve --workers N`` and runs, for ``--seconds``:
``--callers`` callers (next → report), 8 organizers searching people by name prefix, 8 public
sign-up forms and 16 visitors reading event pages. Prints requests/s and p50/p95/p99 per
endpoint as JSON and exits 1 on any error. The public-form rate limit is lifted for the run
(all load comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import FIRST
from bench.calling import prepare as prepare_calling
from core import db
from core.tables import utcnow


async def prepare(url: str, args) -> dict:
    """The calling setup plus an admin token and public events."""
    from core.auth.services import assign_role, issue_token
    from core.context import set_runtime
    from core.orgs.services import set_module
    from core.testing import OrgaFactory
    from plugins.events.schemas import EventIn
    from plugins.events.services import create_event

    setup = await prepare_calling(url, args)
    async with open_runtime(url) as runtime:
        set_runtime(runtime)
        root = await db.fetch_one("SELECT * FROM org_unit WHERE id = {}", setup["root"])
        await set_module(root["id"], "events", True)
        admin = await OrgaFactory().user(None, None, email="admin@bench.invalid")
        await assign_role(admin.id, root["id"], "admin", by=None)
        setup["admin"] = (await issue_token(admin.id)).secret
        start = utcnow().replace(microsecond=0) + timedelta(days=3)
        setup["events"] = []
        for n in range(20):
            data = EventIn(
                title=f"Infostand {n}",
                type="info_stand",
                start_at=start + timedelta(days=n),
                end_at=start + timedelta(days=n, hours=2),
                visibility="public",
                state="published",
            )
            setup["events"].append((await create_event(root["id"], root["path"], data))["id"])
    return setup


class Recorder:
    """Latencies and errors per endpoint."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def add(self, label: str, seconds: float) -> None:
        self.samples.setdefault(label, []).append(seconds)


async def run(port: int, setup: dict, args) -> dict:
    """All client groups at once until the time is up."""
    record = Recorder()
    deadline = time.perf_counter() + args.seconds
    root = setup["root"]
    calling = f"/api/orgs/{root}/calling"

    async def timed(conn, label, method, path, body=None, ok=(200,)):
        began = time.perf_counter()
        status, data = await conn.request(method, path, body)
        record.add(label, time.perf_counter() - began)
        if status not in ok:
            record.errors.append(f"{label} {status} {data[:160]!r}")
        return status, data

    async def caller(token: str) -> None:
        conn = Connection(port, token)
        await conn.open()
        while time.perf_counter() < deadline and not record.errors:
            status, data = await timed(
                conn,
                "calling next",
                "POST",
                f"{calling}/assignments/{setup['assignment']}/next",
                ok=(200, 204),
            )
            if status == 204:
                await asyncio.sleep(0.05)
                continue
            call_id = json.loads(data)["call_id"]
            await timed(
                conn,
                "calling report",
                "POST",
                f"{calling}/calls/{call_id}/report",
                {"outcome": "reached"},
                ok=(204,),
            )
        await conn.close()

    async def searcher(seed: int) -> None:
        rng = random.Random(seed)
        conn = Connection(port, setup["admin"])
        await conn.open()
        while time.perf_counter() < deadline and not record.errors:
            prefix = rng.choice(FIRST)[:3].lower()
            await timed(
                conn, "people search", "GET", f"/api/orgs/{root}/people/?q={prefix}&limit=20"
            )
        await conn.close()

    async def visitor(seed: int) -> None:
        rng = random.Random(seed)
        conn = Connection(port)
        await conn.open()
        while time.perf_counter() < deadline and not record.errors:
            event = rng.choice(setup["events"])
            await timed(conn, "public event page", "GET", f"/p/events/{root}/{event}")
        await conn.close()

    async def signer(seed: int) -> None:
        rng = random.Random(seed)
        conn = Connection(port)
        await conn.open()
        n = 0
        while time.perf_counter() < deadline and not record.errors:
            n += 1
            event = rng.choice(setup["events"])
            form = (
                f"first_name=Gast&last_name=L{seed}x{n}&email=g{seed}x{n}%40example.org"
                "&phone=&consent=yes&website="
            )
            began = time.perf_counter()
            status, data = await conn.request_form("POST", f"/p/events/{root}/{event}/signup", form)
            record.add("public sign-up", time.perf_counter() - began)
            if status != 200:
                record.errors.append(f"sign-up {status} {data[:160]!r}")
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(
        *(caller(t) for t in setup["tokens"]),
        *(searcher(i) for i in range(8)),
        *(signer(i) for i in range(8)),
        *(visitor(i) for i in range(16)),
    )
    elapsed = time.perf_counter() - started
    endpoints = {
        label: {"requests": len(s), "per_s": round(len(s) / elapsed, 1), **percentiles(s)}
        for label, s in sorted(record.samples.items())
    }
    total = sum(len(s) for s in record.samples.values())
    return {
        "requests_per_s": round(total / elapsed),
        "endpoints": endpoints,
        "errors": record.errors[:5],
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=200_000)
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        setup = await prepare(url, SimpleNamespace(**vars(args)))
        proc, port = start_server(url, args.workers, var, ORGA_EVENTS__SIGNUP_LIMIT="100000000")
        try:
            result = await run(port, setup, args)
        finally:
            proc.terminate()
            proc.wait()
    print(
        json.dumps(
            {
                "benchmark": "load",
                "backend": args.backend,
                "people": args.people,
                "seconds": args.seconds,
                "server_workers": args.workers,
                **result,
            },
            indent=2,
        )
    )
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
