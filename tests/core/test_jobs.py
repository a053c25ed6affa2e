"""The durable job queue: outbox, dedupe, exclusive claims, leases, retries, shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import types
from datetime import datetime, timedelta

import pytest

from core import db, hookimpl
from core.jobs import services as jobs
from core.jobs.worker import Worker
from core.tables import utcnow
from core.templating import RenderedMail

pytestmark = pytest.mark.usefixtures("client")
SEEN: list[dict] = []


async def echo(payload):
    SEEN.append(payload)
    if payload.get("fail"):
        raise ValueError("asked to fail")


@hookimpl
def register_module():
    from core import Module

    return Module(name="echoer", title="Echo jobs")


@hookimpl
def register_jobs():
    return {"test.echo": echo}


ECHO_PLUGIN = types.SimpleNamespace(
    register_module=register_module, register_jobs=register_jobs, __name__="echo_plugin"
)


@pytest.fixture
def orga_plugins():
    SEEN.clear()
    return [ECHO_PLUGIN]


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


def worker_for(app, **options) -> Worker:
    return Worker(app.state.orga.job_handlers(), **options)


async def test_module_job_runs_and_dedupe_key_prevents_doubles(app):
    assert await jobs.enqueue("test.echo", {"n": 1}, dedupe_key="once") is not None
    assert await jobs.enqueue("test.echo", {"n": 2}, dedupe_key="once") is None
    assert await worker_for(app).drain() == 1
    assert SEEN == [{"n": 1}]


async def test_concurrent_claims_never_overlap(app):
    for n in range(60):
        await jobs.enqueue("test.echo", {"n": n})
    claims = await asyncio.gather(*(jobs.claim(f"w{i}", 10, ["test.echo"]) for i in range(8)))
    assert all(len(claim) <= 10 for claim in claims)  # LIMIT holds under contention
    ids = [job["id"] for claim in claims for job in claim]
    assert len(ids) == len(set(ids)) == 60


async def test_errors_retry_with_backoff_then_fail(app):
    await jobs.enqueue("test.echo", {"fail": True}, max_attempts=2)
    worker = worker_for(app)
    await worker.drain()
    row = await db.fetch_one("SELECT status, attempts, run_at, last_error FROM job")
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert "asked to fail" in row["last_error"]
    assert row["run_at"] > utcnow()
    await db.execute("UPDATE job SET run_at = {}", utcnow() - timedelta(seconds=1))
    await worker.drain()
    row = await db.fetch_one("SELECT id, status, attempts FROM job")
    assert (row["status"], row["attempts"]) == ("failed", 2)
    await jobs.retry(row["id"])
    assert (await db.fetch_one("SELECT status FROM job"))["status"] == "queued"
    await jobs.cancel(row["id"])
    assert (await db.fetch_one("SELECT status FROM job"))["status"] == "cancelled"


async def test_dead_workers_jobs_are_delivered_exactly_once_after_lease_expiry(app, smtp_sink):
    mailer = app.state.orga.mailer
    for n in range(20):
        await mailer.enqueue(
            to_email=f"p{n}@example.org",
            rendered=RenderedMail(subject=f"Nr {n}", text="x\n", html=None),
        )
    dead = await jobs.claim("dead-worker", 20, ["mail.send"], lease=timedelta(minutes=5))
    assert len(dead) == 20
    assert await worker_for(app).drain() == 0  # leased by the dead worker
    await db.execute("UPDATE job SET lease_expires_at = {}", utcnow() - timedelta(seconds=1))
    assert await worker_for(app).drain() == 20
    subjects = sorted(m["Subject"] for m in smtp_sink.messages)
    assert subjects == sorted(f"Nr {n}" for n in range(20))
    assert not await jobs.mark_done(dead[0]["id"], "dead-worker")  # late finisher is ignored
    statuses = {r["status"] for r in await db.fetch("SELECT status FROM job")}
    assert statuses == {"done"}


async def test_graceful_shutdown_releases_unfinished_jobs(app):
    started = asyncio.Event()

    async def slow(payload):
        started.set()
        await asyncio.sleep(30)

    worker = Worker({"test.echo": slow}, concurrency=2, grace=0.1)
    await jobs.enqueue("test.echo", {"n": 1})
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    row = await db.fetch_one("SELECT status, attempts, locked_by FROM job")
    assert (row["status"], row["attempts"], row["locked_by"]) == ("queued", 0, None)


async def test_jobs_overview_is_for_root_admins(client, factory, app):
    root = await factory.org(kind="federal")
    child = await factory.org(parent=root["id"])
    root_admin = await factory.user("admin", root["id"])
    child_admin = await factory.user("admin", child["id"])
    await jobs.enqueue("test.echo", {"fail": True}, max_attempts=1)
    await worker_for(app).drain()
    overview = await client.get("/api/jobs", headers=root_admin.headers)
    assert overview.status_code == 200
    body = overview.json()
    assert {"kind": "test.echo", "status": "failed", "n": 1} in body["counts"]
    assert body["failures"][0]["last_error"].startswith("ValueError")
    assert (await client.get("/api/jobs", headers=child_admin.headers)).status_code == 403


class TestRetrying:
    @pytest.fixture
    def orga_overrides(self, smtp_sink):
        return {"smtp_url": smtp_sink.url, "metrics": True}

    async def test_a_job_that_keeps_failing_shows_in_the_overview_and_metrics(
        self, client, factory, app
    ):
        root = await factory.org(kind="federal")
        admin = await factory.user("admin", root["id"])
        await jobs.enqueue("test.echo", {"fail": True})
        await jobs.enqueue("test.echo", {"n": 1})
        worker = worker_for(app)
        for _ in range(3):
            await db.execute("UPDATE job SET run_at = {}", utcnow() - timedelta(seconds=1))
            await worker.drain()
        body = (await client.get("/api/jobs", headers=admin.headers)).json()
        assert body["failures"] == []  # not failed for good (yet): it keeps failing
        [retrying] = body["retrying"]
        assert (retrying["kind"], retrying["attempts"], retrying["max_attempts"]) == (
            "test.echo",
            3,
            8,
        )
        assert retrying["last_error"] == "ValueError: asked to fail"
        assert datetime.fromisoformat(retrying["next_attempt_at"]) > utcnow()
        metrics = (await client.get("/metrics")).text
        assert 'orga_jobs_retrying{kind="test.echo"} 1.0' in metrics
        # queued again by hand, it does not count until it fails again
        await db.execute("UPDATE job SET status = 'failed' WHERE last_error IS NOT NULL")
        await jobs.retry(retrying["id"])
        assert (await client.get("/api/jobs", headers=admin.headers)).json()["retrying"] == []


async def test_two_worker_processes_share_1000_jobs_without_doubles(
    app, smtp_sink, orga_settings, tmp_path
):
    mailer = app.state.orga.mailer
    payloads = [
        (
            mailer.payload(
                to_email=f"m{n}@example.org",
                rendered=RenderedMail(subject=f"Nr {n}", text="x\n", html=None),
            ),
            None,
        )
        for n in range(1000)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    env.update(
        ORGA_DATABASE_URL=orga_settings.database_url,
        ORGA_VAR_DIR=orga_settings.var_dir,
        ORGA_SECRET_KEY=orga_settings.secret_key,
        ORGA_SMTP_URL=smtp_sink.url,
    )
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--concurrency", "8"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 60
        while not all("started" in log.read_text() for log in logs):  # both poll first
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, "workers did not start"
            await asyncio.sleep(0.1)
        assert await jobs.enqueue_many("mail.send", payloads) == 1000
        deadline = time.monotonic() + 120
        while len(smtp_sink.raw) < 1000 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    subjects = [m["Subject"] for m in smtp_sink.messages]
    assert len(subjects) == 1000
    assert len(set(subjects)) == 1000
    rows = await db.fetch("SELECT locked_by, status, attempts FROM job")
    assert {r["status"] for r in rows} == {"done"}
    assert {r["attempts"] for r in rows} == {1}
    workers = {r["locked_by"] for r in rows}
    assert len(workers) == 2, [log.read_text() for log in logs]  # both did part of the work


async def test_finished_jobs_are_purged_after_their_time(app):
    await jobs.enqueue("test.echo", {"n": 1})
    await jobs.enqueue("test.echo", {"n": 2})
    await worker_for(app).drain()
    await jobs.enqueue("test.echo", {"n": 3})  # still queued: never purged
    await db.execute("UPDATE job SET finished_at = {} WHERE id = 1", utcnow() - timedelta(days=30))
    assert await jobs.purge_finished(utcnow() - timedelta(days=14)) == 1
    assert [r["id"] for r in await db.fetch("SELECT id FROM job ORDER BY id")] == [2, 3]
