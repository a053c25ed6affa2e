"""A mailing to many recipients: freeze, render rate, delivery rate per worker process.

Run: ``.venv/bin/python bench/mailings.py [--backend sqlite|postgres] [--people 100000]
[--render 10000] [--deliver 5000] [--concurrency 16] [--intl-share 0.01] [--tempfail]``.
Prints JSON. Targets (issue 8): for 100,000 recipients the freeze (recipient rows + one send
job each, one transaction) takes ≤ 10 s; rendering ≥ 2,000 mails/s; delivery to a local SMTP
sink ≥ 300 mails/s with one worker process. Delivery runs the real ``mailings.send`` job (row
check, contactability, render, core's ``Mailer.deliver``, bookkeeping); the SMTP server
(aiosmtpd with SMTPUTF8, ``bench._smtp.RecordingSink``) runs as its own process on loopback
and logs every recipient it accepts, so the bench checks that each got exactly one mail.

Faults (issue 22): ``--intl-share 0.01`` gives 1 % of the people an address with a non-ASCII
local part (sent with SMTPUTF8), ``--tempfail`` gives one recipient among the first chunk an
address the server always answers with 451. Every other recipient must be delivered once;
the deferred one stays queued with the reason, to be tried again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
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

ROOT = Path(__file__).resolve().parents[1]
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


async def add_faults(intl_share: float, tempfail: bool) -> None:
    """Internationalized addresses for ``intl_share`` of the people; one deferring address."""
    if intl_share:
        await db.execute(
            "UPDATE person SET email = 'jörg.müller.' || CAST(id AS TEXT) || '@example.org' "
            "WHERE id % {} = 0",
            round(1 / intl_share),
        )
    if tempfail:  # the 13th person: in the middle of the first send job
        await db.execute(
            "UPDATE person SET email = 'tempfail@example.org' "
            "WHERE id = (SELECT MIN(id) FROM person) + 12"
        )


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


async def deliver_rate(runtime, count: int, concurrency: int, log: Path) -> dict:
    """Run the send jobs of the first ``count`` recipients with one worker; mails per second,
    and whether everyone but a deferred recipient got exactly one mail (the server's log)."""
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
    sent = await db.fetch(
        "SELECT p.email FROM mailings_recipient r JOIN person p ON p.id = r.person_id "
        "WHERE r.state = 'sent'"
    )
    deferred = await db.fetch(
        "SELECT email, attempts, error FROM mailings_recipient WHERE state = 'queued' "
        "AND attempts > 0"
    )
    received = Counter((await asyncio.to_thread(log.read_text, encoding="utf-8")).splitlines())
    addresses = {row["email"] for row in sent}
    # a deferred recipient's job comes up again while the drain runs (backoff 10 s, 20 s, …)
    assert done - jobs <= (20 if deferred else 0), (done, jobs)
    assert len(sent) + len(deferred) == jobs * sending.CHUNK, (len(sent), count)
    assert set(received) == addresses and set(received.values()) == {1}, "not delivered once"
    return {
        "deliver_mails": len(sent),
        "deliver_mails_per_second": round(len(sent) / elapsed),
        "deliver_seconds": round(elapsed, 1),
        "internationalized_delivered": sum(not a.isascii() for a in addresses),
        "delivered_exactly_once": True,
        "deferred": deferred,
    }


async def _listening(port: int) -> None:
    """Wait until the SMTP server accepts connections."""
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError("the SMTP server did not start")


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--render", type=int, default=10_000)
    parser.add_argument("--deliver", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--intl-share", type=float, default=0.0)
    parser.add_argument("--tempfail", action="store_true")
    args = parser.parse_args()
    port = free_port()
    listen = f"127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="orga-bench-")) / "received.txt"
    handler = ["-c", "bench._smtp.RecordingSink", str(log)]
    sink = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
        [sys.executable, "-m", "aiosmtpd", "-n", "-u", *handler, "-l", listen], cwd=ROOT
    )
    try:
        await _listening(port)
        with database_url(args.backend) as url:
            async with open_runtime(
                url, smtp_url=f"smtp://127.0.0.1:{port}?starttls=off", smtp_pool_size=16
            ) as runtime:
                set_runtime(runtime)
                mailing, path = await setup(args.people)
                await add_faults(args.intl_share, args.tempfail)
                started = time.perf_counter()
                frozen = await sending.freeze(mailing["id"], path, from_states=("draft",))
                freeze_seconds = time.perf_counter() - started
                assert frozen == args.people, frozen
                rendered = await render_rate(mailing, args.render)
                delivered = await deliver_rate(runtime, args.deliver, args.concurrency, log)
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
        "internationalized_share": args.intl_share,
        **delivered,
        "deliver_target_per_second": 300,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
