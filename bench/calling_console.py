"""The calling screen of the console at scale: N callers in their browsers, over HTTP (issue #25).

Run: ``.venv/bin/python bench/calling_console.py [--backend postgres|sqlite] [--people 1000000]
[--targets 200000] [--callers 200] [--seconds 20] [--workers 2] [--rate 310] [--progress-every
1] [--progress-refresh S]``. Fills the database with N people, creates an assignment whose
queue is a random sample of ``--targets`` of them, gives every caller a console session (the
cookie a login sets) and starts ``--workers`` server processes (``orga serve``, production
settings). Each caller drives the HTML call screen (plugins/calling/caller_pages.py) as a
browser does: GET the call screen, read the CSRF token and the report form's action (its call
id) from the HTML, POST "save and next" with an outcome (``reached``), follow the 303 to the
next card. The first card is taken with the screen's start button (``…/call/next``). The
callers together offer ``--rate`` calls/s (open loop: caller ``i`` starts a call every
``callers / rate`` s); the latency of each step (the POST, the GET of the card it redirects to)
counts from when it was sent. Meanwhile an organizer (another console session) asks the
assignment's progress page every ``--progress-every`` s. After a 3 s warm-up the window is
measured; then the calls table is checked for a person handed to two callers. Targets: ≥ 300
calls/s served, p99 per step ≤ 100 ms, progress page p95 ≤ 100 ms, no person twice. Prints
JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._calling import prepare_campaign
from bench._common import database_url, favour_load_generator, open_runtime, start_server
from bench._cpu import CpuSplit
from bench._http import Connection, percentiles
from core import db

WARMUP_SECONDS = 3
TARGET_CALLS_PER_S = 300
TARGET_STEP_P99_MS = 100.0
TARGET_PROGRESS_P95_MS = 100.0
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
_REPORT = re.compile(r'action="(/app/orgs/\d+/calling/assignments/\d+/calls/(\d+))"')
_START = re.compile(r'action="(/app/orgs/\d+/calling/assignments/\d+/call/next)"')


def _cookie(secret: str) -> str:
    return f"orga_session={secret}"


async def run_callers(
    ports: list[int],
    setup: dict,
    seconds: float,
    rate: float,
    progress_every: float,
    cpu: CpuSplit | None = None,
) -> dict:
    """The callers loop screen → save and next → screen for ``seconds`` at ``rate`` calls/s
    together, while the organizer asks the progress page; latencies and calls served, and
    with ``cpu`` where the machine's CPU went per call saved."""
    base = f"/app/orgs/{setup['root']}/calling/assignments/{setup['assignment']}"
    screen = f"{base}/call"
    post_latencies: list[float] = []
    get_latencies: list[float] = []
    progress_latencies: list[float] = []
    saved_at: list[float] = []
    errors: list[str] = []
    empty = 0
    callers = len(setup["secrets"])
    interval = callers / rate

    async def timed(conn: Connection, into: list[float], method: str, path: str, form=None):
        sent = time.perf_counter()
        if method == "GET":
            answer = await conn.request("GET", path)
        else:
            answer = await conn.request_form("POST", path, form)
        into.append(time.perf_counter() - sent)
        return answer

    async def caller(conn: Connection, index: int, start: float, deadline: float) -> None:
        nonlocal empty
        due = start + index / rate
        try:
            # the first screen too at the caller's own time: 200 callers loading it in the
            # same millisecond is a burst no calling evening makes (and a p99 of its own)
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status, page = await timed(conn, get_latencies, "GET", screen)
            while due < deadline:
                if status != 200:
                    errors.append(f"screen {status} {page[:200]!r}")
                    return
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                due += interval
                html = page.decode()
                token = _CSRF.search(html)
                report = _REPORT.search(html)
                if token is None:
                    errors.append(f"no CSRF token on the screen: {html[:200]!r}")
                    return
                if report is not None:
                    form = f"_csrf={quote(token.group(1))}&action=next&outcome=reached"
                    target = report.group(1)
                else:
                    begin = _START.search(html)
                    if begin is None:  # nobody left to call (or not yet): look again later
                        empty += 1
                        due = max(due, time.perf_counter() + 0.05)
                        status, page = await timed(conn, get_latencies, "GET", screen)
                        continue
                    form = f"_csrf={quote(token.group(1))}"
                    target = begin.group(1)
                status, answer = await timed(conn, post_latencies, "POST", target, form)
                if status != 303:
                    errors.append(f"save and next {status} {answer[:200]!r}")
                    return
                if report is not None:
                    saved_at.append(time.perf_counter())
                location = conn.header("location") or screen
                status, page = await timed(conn, get_latencies, "GET", location)
        finally:
            await conn.close()

    async def organizer(conn: Connection, deadline: float) -> None:
        path = f"{base}/progress"
        try:
            while time.perf_counter() < deadline:
                status, answer = await timed(conn, progress_latencies, "GET", path)
                if status != 200:
                    errors.append(f"progress {status} {answer[:200]!r}")
                    return
                await asyncio.sleep(progress_every)
        finally:
            await conn.close()

    connections = []
    for index, secret in enumerate(setup["secrets"]):
        connections.append(Connection(ports[index % len(ports)], cookie=_cookie(secret)))
        await connections[-1].open()
        await asyncio.sleep(0.005)  # callers arrive one by one, as people log in
    watcher = Connection(ports[0], cookie=_cookie(setup["organizer"]))
    await watcher.open()
    start = time.perf_counter()
    deadline = start + seconds
    if cpu is not None:
        cpu.start()
    await asyncio.gather(
        organizer(watcher, deadline),
        *(caller(c, i, start, deadline) for i, c in enumerate(connections)),
    )
    usage = cpu.stop(len(saved_at), per="call") if cpu is not None else {}
    if errors:
        raise SystemExit(f"errors during load: {errors[:3]}")
    steady = [t for t in saved_at if start + 1 <= t < deadline]
    return {
        "offered_calls_per_s": rate,
        "calls_saved": len(saved_at),
        "calls_per_s": round(len(steady) / max(seconds - 1, 1)),
        "empty_screens": empty,
        "save_and_next_post": percentiles(post_latencies),
        "call_screen_get": percentiles(get_latencies),
        "progress_page": {**percentiles(progress_latencies), "requests": len(progress_latencies)},
        **usage,
    }


async def duplicates(url: str, assignment_id: int) -> dict:
    """People handed to two callers: more than one call of the round per person, and more
    than one caller per person."""
    async with open_runtime(url):
        twice = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM (SELECT person_id FROM calling_call "
            "WHERE assignment_id = {} GROUP BY person_id HAVING COUNT(*) > 1) x",
            assignment_id,
        )
        two_callers = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM (SELECT person_id FROM calling_call "
            "WHERE assignment_id = {} GROUP BY person_id "
            "HAVING COUNT(DISTINCT caller_id) > 1) x",
            assignment_id,
        )
        calls = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM calling_call WHERE assignment_id = {}", assignment_id
        )
    return {
        "calls_in_table": int(calls["n"]),
        "people_with_two_calls": int(twice["n"]),
        "people_handed_to_two_callers": int(two_callers["n"]),
    }


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=200_000)
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--pool", type=int, default=4, help="database connections per process")
    parser.add_argument(
        "--rate",
        type=float,
        default=310,
        help="calls/s the callers offer together (a little above the target of 300)",
    )
    parser.add_argument(
        "--progress-every", type=float, default=1.0, help="seconds between progress requests"
    )
    parser.add_argument(
        "--progress-refresh",
        type=int,
        default=None,
        help="the servers' progress_refresh_seconds (default: the deployment default)",
    )
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        setup = await prepare_campaign(
            url,
            people=args.people,
            targets=args.targets,
            callers=args.callers,
            title="Anrufe",
            console=True,
            organizer=True,
        )
        env = {"ORGA_DB_POOL_SIZE": str(args.pool)}
        if args.progress_refresh is not None:
            env["ORGA_CALLING__PROGRESS_REFRESH_SECONDS"] = str(args.progress_refresh)
        servers = [start_server(url, 1, var, **env) for _ in range(args.workers)]
        ports = [port for _, port in servers]
        nice = favour_load_generator()
        try:
            await run_callers(ports, setup, WARMUP_SECONDS, args.rate, args.progress_every)
            cpu = CpuSplit(proc.pid for proc, _ in servers)
            window = await run_callers(
                ports, setup, args.seconds, args.rate, args.progress_every, cpu=cpu
            )
        finally:
            for proc, _ in servers:
                proc.terminate()
                proc.wait()
        check = await duplicates(url, setup["assignment"])
    step_p99 = max(window["save_and_next_post"]["p99_ms"], window["call_screen_get"]["p99_ms"])
    result = {
        "benchmark": "calling_console",
        "backend": args.backend,
        "people": args.people,
        "targets": setup["targets"],
        "callers": args.callers,
        "server_processes": args.workers,
        "db_pool_size": args.pool,
        "progress_refresh_seconds": args.progress_refresh,
        "warmup_s": WARMUP_SECONDS,
        "load_generator_nice": nice,
        "fill_people_s": setup["fill_people_s"],
        "materialize_queue_s": setup["materialize_queue_s"],
        "window": window,
        "step_p99_ms": step_p99,
        **check,
    }
    result["pass"] = (
        check["people_handed_to_two_callers"] == 0
        and window["calls_per_s"] >= TARGET_CALLS_PER_S
        and step_p99 <= TARGET_STEP_P99_MS
        and window["progress_page"]["p95_ms"] <= TARGET_PROGRESS_P95_MS
    )
    return result


if __name__ == "__main__":
    run = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop  # the load generator shares the machine: spend as little CPU as we can

        run = uvloop.run
    print(json.dumps(run(main()), indent=2))
