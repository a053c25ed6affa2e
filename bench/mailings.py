"""A mailing to many recipients: freeze, render rate, delivery rate per worker process.

Run: ``.venv/bin/python bench/mailings.py [--backend sqlite|postgres] [--people 100000]
[--render 10000] [--deliver 5000] [--concurrency 16]``. Prints JSON. Targets (issue 8): for
100,000 recipients the freeze (recipient rows + one send job each, one transaction) takes
≤ 10 s; rendering ≥ 2,000 mails/s; delivery to a local SMTP sink ≥ 300 mails/s with one
worker process. Delivery runs the real ``mailings.send`` job (row check, contactability,
render, core's ``Mailer.deliver``, bookkeeping); the SMTP sink (aiosmtpd's ``Sink``) runs as
its own process on loopback.
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
from bench._people import fill_people, org_tree
from core import db
from core._pgserver import free_port
from core.context import set_runtime
from core.jobs.worker import Worker
from core.tables import utcnow
from plugins.mailings import sending, services
from plugins.mailings.schemas import MailingIn

BODY = """Liebe:r {{ person.first_name }},

am **Samstag** verteilen wir die Kampagnenzeitung in {{ org.name }}. Wir treffen uns um
10 Uhr am Infostand{% if person.postal_code %} (PLZ {{ person.postal_code }}){% endif %}.

* Flyer und Zeitungen sind da
* Kaffee auch

Bis Samstag!
"""


async def setup(count: int) -> tuple[dict, str]:
    """One district with ``count`` people who all gave e-mail consent; a draft mailing."""
    tree = await org_tree(states=1, districts_per_state=1)
    district = tree["districts"][0]
    await fill_people(count, [district])
    await db.execute(
        "INSERT INTO consent_event (person_id, channel, purpose, status, source, at) "
        "SELECT id, 'email', 'general', 'granted', 'bench', {} FROM person",
        utcnow(),
    )
    await db.execute("ANALYZE")
    org = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", district)
    mailing = await services.create_mailing(
        district,
        org["path"],
        MailingIn(
            subject="{{ person.first_name }}, Samstag verteilen wir!",
            sender_name="Die Linke KV",
            sender_address="kv@example.org",
            body=BODY,
            audience={"filters": [{"type": "org", "org_id": district}]},
            cta_url="https://example.org/termine/42",
        ),
    )
    return mailing, org["path"]


async def render_rate(mailing: dict, count: int) -> float:
    """Mails rendered per second (body, Markdown, layout, list headers, job payload)."""
    renderer = await services.renderer_for(mailing)
    people = await db.fetch("SELECT * FROM person ORDER BY id LIMIT {}", count)
    mailer = services.current_runtime().mailer
    started = time.perf_counter()
    for n, person in enumerate(people):
        rendered = renderer.render(person, n + 1)
        mailer.payload(
            to_email=person["email"],
            to_name=f"{person['first_name']} {person['last_name']}",
            rendered=rendered.mail,
            headers=rendered.headers,
            bulk=True,
        )
    return len(people) / (time.perf_counter() - started)


async def deliver_rate(runtime, count: int, concurrency: int) -> float:
    """Run the send jobs of the first ``count`` recipients with one worker; mails per second."""
    jobs = count // sending.CHUNK
    first = await db.fetch_one(
        "SELECT id FROM job WHERE kind = {} ORDER BY id LIMIT 1 OFFSET {}",
        sending.SEND_JOB,
        jobs,
    )
    if first:
        await db.execute("DELETE FROM job WHERE id >= {}", first["id"])
    await db.execute("VACUUM ANALYZE job" if db.is_postgres() else "ANALYZE job")
    worker = Worker(runtime.job_handlers(), concurrency=concurrency)
    started = time.perf_counter()
    done = await worker.drain()
    elapsed = time.perf_counter() - started
    sent = await db.fetch_one("SELECT COUNT(*) AS n FROM mailings_recipient WHERE state = 'sent'")
    assert done == jobs and sent["n"] == jobs * sending.CHUNK, (done, sent, count)
    return jobs * sending.CHUNK / elapsed


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--render", type=int, default=10_000)
    parser.add_argument("--deliver", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    listen = f"127.0.0.1:{port}"
    sink = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", listen]
    )
    try:
        with database_url(args.backend) as url:
            async with open_runtime(
                url, smtp_url=f"smtp://127.0.0.1:{port}?starttls=off", smtp_pool_size=16
            ) as runtime:
                set_runtime(runtime)
                mailing, path = await setup(args.people)
                started = time.perf_counter()
                frozen = await sending.freeze(mailing["id"], path, from_states=("draft",))
                freeze_seconds = time.perf_counter() - started
                assert frozen == args.people, frozen
                rendered = await render_rate(mailing, args.render)
                delivered = await deliver_rate(runtime, args.deliver, args.concurrency)
                await runtime.mailer.transport.close()
    finally:
        sink.terminate()
        sink.wait()
    return {
        "benchmark": "mailings",
        "backend": args.backend,
        "recipients": args.people,
        "freeze_seconds": round(freeze_seconds, 2),
        "freeze_target_seconds": 10 * args.people / 100_000,
        "render_mails_per_second": round(rendered),
        "render_target_per_second": 2000,
        "deliver_mails": args.deliver,
        "deliver_mails_per_second": round(delivered),
        "deliver_target_per_second": 300,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
