"""linksaktiv: sign-ups per second over HTTP, and the streamed shipping export of many orders.

Run: ``.venv/bin/python bench/linksaktiv.py [--backend postgres|sqlite] [--seconds 20]
[--concurrency 32] [--workers 2] [--orders 100000]``. Prints JSON. Targets (issue 9):
≥ 200 sign-ups/s sustained on PostgreSQL; the shipping CSV of 100,000 orders streams in
≤ 10 s with flat memory.

The server is ``orga serve`` (uvicorn) on loopback with the worker off, so each sign-up is the
full request path (parse, match or create the person, activist row, topics, confirmation mail
rendered and put into the outbox) and nothing else competes for the two cores. Load comes from
a closed loop in this process (``bench._http``, nothing to install): ``--concurrency``
keep-alive connections each send the next sign-up, a new e-mail address every time, as soon as
the previous one is answered, for ``--seconds``; sign-ups/s counts the answers, the latency
percentiles are per request, and the generator's own CPU per request is reported so the figure
can be read against it (it shares the machine with the server). The export is read by an HTTP
client while the server's resident memory is sampled from ``/proc`` every 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from bench._http import Connection, percentiles
from core import db
from core._pgserver import free_port
from core.tables import utcnow

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "x" * 32
SERVE = [sys.executable, "-m", "core", "serve"]


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


async def signups(port: int, seconds: float, concurrency: int) -> dict:
    """The closed loop of sign-ups: requests/s, latency percentiles, non-2xx answers and the
    load generator's CPU per request."""
    latencies: list[float] = []
    failed = 0
    deadline = time.perf_counter() + seconds

    async def member(client: int) -> None:
        nonlocal failed
        connection = Connection(port)
        await connection.open()
        sent = 0
        while time.perf_counter() < deadline:
            sent += 1
            body = {
                "first_name": "Anna",
                "last_name": f"Test{client}x{sent}",
                "email": f"b{client}_{sent}@example.org",
                "postal_code": f"{1000 + (sent * 7919 + client * 104729) % 98000:05d}",
                "topics": ["rent", "care"],
                "help": ["newspapers"],
                "consent": True,
                "consent_wording": "Ja, informiert mich.",
            }
            began = time.perf_counter()
            status, _ = await connection.request("POST", "/p/linksaktiv/api/join", body)
            latencies.append(time.perf_counter() - began)
            failed += not 200 <= status < 300
        await connection.close()

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(member(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {
        "requests": len(latencies),
        "signups_per_second": round(len(latencies) / elapsed, 1),
        **percentiles(latencies),
        "errors": failed,
        "load_generator_cpu_ms_per_request": round(cpu * 1000 / max(len(latencies), 1), 3),
    }


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
            signed = await signups(port, args.seconds, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=30)
        async with open_runtime(url, modules=("linksaktiv",)):
            stored = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM linksaktiv_activist a JOIN person p "
                "ON p.id = a.person_id WHERE p.email LIKE 'b%'"
            )
            mails = await db.fetch_one("SELECT COUNT(*) AS n FROM job WHERE kind = 'mail.send'")
        signed |= {"stored": stored["n"], "confirmation_mails_queued": mails["n"]}
    return {
        "benchmark": "linksaktiv",
        "backend": args.backend,
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        "setup_seconds": setup_seconds,
        "signup": signed,
        "shipping_export": shipping,
    }


if __name__ == "__main__":
    run = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop  # the load generator shares the machine: spend as little CPU as we can

        run = uvloop.run
    print(json.dumps(run(main()), indent=2))
