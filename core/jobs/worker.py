"""The job worker: claims due jobs and runs their handlers, inline or as ``orga worker``."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from core.jobs.services import DEFAULT_LEASE, PermanentJobError, claim, mark_done, mark_failed
from core.jobs.services import release as release_jobs

__all__ = ["Worker"]

log = logging.getLogger("orga.worker")
Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Worker:
    """Runs up to ``concurrency`` jobs at a time until told to stop.

    Args:
        handlers: ``{kind: async handler(payload)}``; only these kinds are claimed.
        concurrency: jobs running at once in this process.
        poll_interval: seconds to wait when nothing is due (``wake()`` cuts it short).
        lease: how long a claim lasts before another worker may take the job over.
        grace: seconds a stopping worker lets running jobs finish before releasing them.
    """

    def __init__(
        self,
        handlers: dict[str, Handler],
        *,
        concurrency: int = 4,
        poll_interval: float = 0.5,
        lease: timedelta = DEFAULT_LEASE,
        grace: float = 10.0,
    ) -> None:
        self.handlers = handlers
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = lease
        self.grace = grace
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.running: dict[int, asyncio.Task[None]] = {}
        self.processed = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due jobs now (called after an enqueue in the same process)."""
        self._wake.set()

    async def _execute(self, job: dict[str, Any]) -> None:
        handler = self.handlers[job["kind"]]
        try:
            await handler(job["payload"])
        except asyncio.CancelledError:
            raise
        except PermanentJobError as exc:
            await mark_failed(
                job["id"], self.id, str(exc), job["attempts"], job["max_attempts"], permanent=True
            )
            log.warning("job %s (%s) failed permanently: %s", job["id"], job["kind"], exc)
        except Exception as exc:
            status = await mark_failed(
                job["id"],
                self.id,
                f"{type(exc).__name__}: {exc}",
                job["attempts"],
                job["max_attempts"],
                permanent=False,
            )
            log.warning("job %s (%s) error, now %s: %s", job["id"], job["kind"], status, exc)
        else:
            if not await mark_done(job["id"], self.id):
                log.warning("job %s finished after its lease was taken over", job["id"])
        finally:
            self.processed += 1

    async def run_once(self) -> int:
        """Claim what fits and start it; returns how many jobs were started.

        Claims in batches: while jobs run, it waits until half the slots are free, so one
        claim query serves many jobs.
        """
        free = self.concurrency - len(self.running)
        if self.running and free < max(1, self.concurrency // 2):
            return 0
        jobs = await claim(self.id, free, list(self.handlers), self.lease)
        log.debug("claimed %s of %s", len(jobs), free)
        for job in jobs:
            task = asyncio.create_task(self._execute(job))
            self.running[job["id"]] = task
            task.add_done_callback(lambda _t, job_id=job["id"]: self.running.pop(job_id, None))
        return len(jobs)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then finish or release the claimed jobs."""
        log.info("worker %s started (concurrency %s)", self.id, self.concurrency)
        try:
            while not stop.is_set():
                started = 0
                try:
                    started = await self.run_once()
                except Exception:
                    log.exception("claiming jobs failed; retrying")
                if started and len(self.running) < self.concurrency:
                    continue
                waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
                if self.running:
                    waiters.append(
                        asyncio.create_task(
                            asyncio.wait(
                                list(self.running.values()), return_when=asyncio.FIRST_COMPLETED
                            )
                        )
                    )
                _, pending = await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in pending:
                    waiter.cancel()
                self._wake.clear()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        if self.running:
            _, unfinished = await asyncio.wait(list(self.running.values()), timeout=self.grace)
            ids = [job_id for job_id, task in self.running.items() if task in unfinished]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            await release_jobs(ids, self.id)
        log.info("worker %s stopped after %s jobs", self.id, self.processed)

    async def drain(self) -> int:
        """Run until no job is due (tests, ``orga jobs run``); returns jobs processed."""
        before = self.processed
        while True:
            started = await self.run_once()
            if self.running:
                await asyncio.wait(list(self.running.values()), return_when=asyncio.FIRST_COMPLETED)
            elif not started:
                return self.processed - before
