"""Mail throughput: render + enqueue personalized mails, then deliver to a local SMTP sink.

Run: ``.venv/bin/python bench/mail.py [--backend sqlite|postgres] [--render 100000]
[--deliver 5000]``. Prints JSON. Targets (issue 5): render + enqueue 100,000 mails in ≤ 30 s;
deliver ≥ 300 mails/s with one worker process. The SMTP sink (aiosmtpd's ``Sink`` handler) runs
as its own process on loopback so it does not share the worker's CPU time slice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, open_runtime
from core import db
from core._pgserver import free_port
from core.jobs.services import enqueue_many
from core.jobs.worker import Worker
from core.mail.service import MAIL_JOB

FIRST = ["Anna", "Jürgen", "Åsa", "Mehmet", "Olga", "Sören", "Zoë", "Björn"]
LAST = ["Müller", "Öberg", "Schröder", "Nowak", "Lindström"]


async def render_and_enqueue(runtime, count: int) -> float:
    """Render the password-reset mail for ``count`` people and enqueue them; seconds taken."""
    mailer = runtime.mailer
    started = time.perf_counter()
    batch = []
    for n in range(count):
        name = f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"
        rendered = runtime.templates.render_mail(
            "mail/password_reset",
            {
                "user_name": name,
                "link": f"https://orga.example.org/p/auth/reset/{n:032d}",
                "locale": "de",
            },
            "de",
        )
        batch.append(
            (
                mailer.payload(
                    to_email=f"p{n}@example.org", to_name=name, rendered=rendered, bulk=True
                ),
                f"bench-{n}",
            )
        )
        if len(batch) == 5000:
            async with db.transaction():
                await enqueue_many(MAIL_JOB, batch)
            batch = []
    if batch:
        async with db.transaction():
            await enqueue_many(MAIL_JOB, batch)
    return time.perf_counter() - started


async def deliver(runtime, count: int) -> float:
    """Deliver the first ``count`` queued mails with one worker; mails per second.

    The rest of the rendered mails are removed first (and the table vacuumed), so the queue
    looks like a live one rather than 95,000 dead rows in front of the index.
    """
    await db.execute("DELETE FROM job WHERE id > {}", count)
    await db.execute("VACUUM ANALYZE job" if db.is_postgres() else "ANALYZE job")
    worker = Worker(runtime.job_handlers(), concurrency=16)
    started = time.perf_counter()
    done = await worker.drain()
    elapsed = time.perf_counter() - started
    assert done == count, (done, count)
    return count / elapsed


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--render", type=int, default=100_000)
    parser.add_argument("--deliver", type=int, default=5_000)
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Sink",
            "-l",
            f"127.0.0.1:{port}",
        ]
    )
    try:
        with database_url(args.backend) as url:
            async with open_runtime(
                url, smtp_url=f"smtp://127.0.0.1:{port}?starttls=off", smtp_pool_size=16
            ) as runtime:
                render_seconds = await render_and_enqueue(runtime, args.render)
                rate = await deliver(runtime, min(args.deliver, args.render))
                await runtime.mailer.transport.close()
    finally:
        sink.terminate()
        sink.wait()
    return {
        "benchmark": "mail",
        "backend": args.backend,
        "render_enqueue_mails": args.render,
        "render_enqueue_seconds": round(render_seconds, 2),
        "render_enqueue_target_seconds": 30 * args.render / 100_000,
        "deliver_mails_per_second": round(rate),
        "deliver_target_per_second": 300,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
