"""linksaktiv: sign-ups per second over HTTP, and the streamed shipping export of many orders.

Run: ``.venv/bin/python bench/linksaktiv.py [--backend postgres|sqlite] [--seconds 20]
[--concurrency 32] [--workers 2] [--orders 100000]``. Prints JSON. Targets (issue 9):
≥ 200 sign-ups/s sustained on PostgreSQL; the shipping CSV of 100,000 orders streams in
≤ 10 s with flat memory.

The server is ``orga serve`` (uvicorn) on loopback with the worker off, so each sign-up is the
full request path (parse, match or create the person, activist row, topics, confirmation mail
rendered and put into the outbox) and nothing else competes for the two cores. Load comes
from ``wrk`` (Debian package ``wrk``) with a Lua script that sends a new e-mail address every
request. The export is read by an HTTP client while the server's resident memory is sampled
from ``/proc`` every 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil

from bench._common import database_url, open_runtime
from core import db
from core._pgserver import free_port
from core.tables import utcnow

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "x" * 32
SERVE = [sys.executable, "-m", "core", "serve"]

LUA = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"first_name":"Anna","last_name":"Test%d","email":"b%d_%d@example.org",' ..
    '"postal_code":"%05d","topics":["rent","care"],"help":["newspapers"],' ..
    '"consent":true,"consent_wording":"Ja, informiert mich."}',
    counter, tid, counter, 1000 + (counter * 7919) % 98000)
  return wrk.format("POST", "/p/linksaktiv/api/join",
    {["Content-Type"] = "application/json"}, body)
end
"""


async def prepare(url: str, orders: int) -> str:
    """Migrate, build a party with postal-code coverage, an edition and ``orders`` shipping
    orders; returns a bearer token of a federal admin."""
    from core.auth.services import assign_role, create_user, issue_token
    from core.orgs.postcodes import set_postcodes
    from core.orgs.services import create_unit, set_module, update_unit

    async with open_runtime(url, modules=("linksaktiv",)):
        root = await create_unit("Bund", "federal", None)
        await set_module(root["id"], "linksaktiv", True)
        for n in range(16):
            state = await create_unit(f"Land {n}", "state", root["id"])
            await set_postcodes(state["id"], [(f"{n * 6000 + 1000:05d}", f"{n * 6000 + 6999:05d}")])
            for k in range(4):
                district = await create_unit(f"KV {n}-{k}", "district", state["id"])
                low = n * 6000 + 1000 + k * 1500
                await set_postcodes(district["id"], [(f"{low:05d}", f"{low + 499:05d}")])
                if k == 0:
                    await update_unit(district["id"], {"office": {"address": "Straße 1"}})
        user = await create_user("bench@example.org", "Bench", "a long enough passphrase 4 orga")
        await assign_role(user["id"], root["id"], "admin", by=None)
        token = await issue_token(user["id"], lifetime=None)
        await _orders(root["id"], orders)
        if db.is_postgres():
            await db.execute("ANALYZE")
        return token.secret


async def _orders(org_id: int, count: int) -> None:
    now = utcnow()
    rows = await db.fetch(
        "INSERT INTO linksaktiv_edition (org_id, title, date, copies, bundle_size, created_at, "
        "updated_at) VALUES ({}, 'Zeitung', {}, {}, 50, {}, {}) RETURNING id",
        org_id,
        date(2026, 12, 1),
        count * 100,
        now,
        now,
    )
    edition = rows[0]["id"]
    chunk = 20_000
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        people = [
            (
                "Anna",
                f"Versand{start + i}",
                "anna",
                f"versand{start + i}",
                f"Hauptstraße {i % 200 + 1}",
                f"{(start + i) % 90000 + 10000:05d}",
                "Musterstadt",
                "DE",
                org_id,
                "web_form",
                "contact",
                "{}",
                False,
                False,
                now,
                now,
            )
            for i in range(n)
        ]
        async with db.transaction():
            await db.bulk_insert(
                "person",
                (
                    "first_name",
                    "last_name",
                    "first_key",
                    "last_key",
                    "street",
                    "postal_code",
                    "city",
                    "country",
                    "home_org_id",
                    "source",
                    "member_status",
                    "custom_fields",
                    "do_not_contact",
                    "has_phone",
                    "created_at",
                    "updated_at",
                ),
                people,
            )
        ids = [
            r["id"]
            for r in await db.fetch(
                "SELECT id FROM person WHERE last_name LIKE 'Versand%' ORDER BY id DESC LIMIT {}",
                n,
            )
        ]
        orders = [
            (org_id, edition, pid, 20 + pid % 180, "shipping", "approved", now, now) for pid in ids
        ]
        async with db.transaction():
            await db.bulk_insert(
                "linksaktiv_order",
                (
                    "org_id",
                    "edition_id",
                    "person_id",
                    "quantity",
                    "delivery",
                    "status",
                    "created_at",
                    "updated_at",
                ),
                orders,
            )


def wrk(base: str, seconds: int, concurrency: int, script: str) -> dict:
    """Run wrk with the sign-up script; requests/s, latency percentiles, non-2xx count."""
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", script, base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = {"errors": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["signups_per_second"] = round(float(parts[1]), 1)
        elif parts[:1] in (["50%"], ["99%"]):
            value = parts[1]
            if value.endswith("us"):
                ms = float(value[:-2]) / 1000
            elif value.endswith("ms"):
                ms = float(value[:-2])
            else:
                ms = float(value[:-1]) * 1000
            result[f"p{parts[0][:-1]}_ms"] = round(ms, 2)
        elif "Non-2xx" in line:
            result["errors"] = int(parts[-1])
        elif "requests in" in line:
            result["requests"] = int(parts[0])
    return result


def server_rss(pid: int) -> int:
    """Resident memory of the server and its worker processes, bytes."""
    proc = psutil.Process(pid)
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


async def export(base: str, token: str, pid: int) -> dict:
    """Stream the shipping CSV; seconds, rows, bytes and the server's memory around it."""
    before = server_rss(pid)
    peak = before
    done = False

    async def sample() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, server_rss(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    size = lines = 0
    first_byte = None
    async with (
        httpx.AsyncClient(base_url=base, timeout=120) as client,
        client.stream(
            "GET",
            "/api/orgs/1/linksaktiv/orders/shipping.csv",
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    done = True
    await sampler
    return {
        "rows": lines - 1,
        "seconds": round(seconds, 2),
        "first_byte_seconds": round(first_byte or 0, 3),
        "megabytes": round(size / 1e6, 1),
        "server_rss_before_mb": round(before / 1e6, 1),
        "server_rss_peak_mb": round(peak / 1e6, 1),
    }


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            try:
                if (await client.get("/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        token = await prepare(url, args.orders)
        setup_seconds = round(time.perf_counter() - started, 1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
        env.update(
            ORGA_DATABASE_URL=url,
            ORGA_VAR_DIR=tmp,
            ORGA_WORKER="off",
            ORGA_ENV="production",
            ORGA_SECRET_KEY=SECRET,
            ORGA_MODULES="linksaktiv",
            ORGA_LINKSAKTIV__SIGNUPS_PER_MINUTE="100000000",
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: ASYNC220
            [*SERVE, "--port", str(port), "--workers", str(args.workers)],
            env=env,
            cwd=ROOT,
        )
        try:
            await wait_ready(base)
            shipping = await export(base, token, server.pid)
            script = Path(tmp) / "signup.lua"
            script.write_text(LUA)
            signups = await asyncio.to_thread(
                wrk, base, args.seconds, args.concurrency, str(script)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        async with open_runtime(url, modules=("linksaktiv",)):
            stored = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM linksaktiv_activist a JOIN person p "
                "ON p.id = a.person_id WHERE p.email LIKE 'b%'"
            )
            mails = await db.fetch_one("SELECT COUNT(*) AS n FROM job WHERE kind = 'mail.send'")
        signups |= {"stored": stored["n"], "confirmation_mails_queued": mails["n"]}
    return {
        "benchmark": "linksaktiv",
        "backend": args.backend,
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        "setup_seconds": setup_seconds,
        "signup": signups,
        "shipping_export": shipping,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
