"""The people list page with its audit row against the same page without one, over HTTP.

Run: ``.venv/bin/python bench/list_audit.py [--people 20000] [--rounds 300]
[--baseline DIR]``. A real server (``orga serve``, one process, SQLite) answers ``GET
/api/orgs/{district}/people/?limit=50`` one request at a time over a keep-alive connection, as
an organizer paging through a list would. Each answer writes one audit row after it has gone
out (issue 21, item 12). With ``--baseline DIR`` (a copy of orga from before list reads were
audited, e.g. ``git archive COMMIT | tar -x -C DIR``) a second server runs that code on the
same database, and the two are measured in alternating blocks, so the machine's drift hits
both alike. Prints JSON: latency percentiles per server (from the client, until the whole
answer is read), the server's CPU ms per request, and the audit rows each one wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from bench._common import database_url, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import fill_people, org_tree
from core import db
from core.auth.services import assign_role, issue_token
from core.auth.tables import User

BLOCK = 50


def server_roots(baseline: str | None) -> dict[str, str]:
    """The copies of orga to serve: this one, and the baseline if given."""
    roots = {"audited": str(Path(__file__).resolve().parents[1])}
    if baseline:
        roots["baseline"] = str(Path(baseline).resolve())
    return roots


async def prepare(url: str, people: int) -> tuple[int, str]:
    """Fill the database; return a district and an organizer's token there."""
    async with open_runtime(url):
        tree = await org_tree()
        await fill_people(people, tree["districts"])
        rows = await User.insert(
            User(email="bench@example.org", display_name="Bench", password_hash="x")
        ).run()
        district = tree["districts"][0]
        await assign_role(rows[0]["id"], district, "organizer", by=None)
        token = await issue_token(rows[0]["id"], lifetime=None)
    return district, token.secret


async def audit_rows(url: str) -> int:
    """How many people-list audit rows the database holds."""
    async with open_runtime(url):
        row = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'people.listed'"
        )
    return int(row["n"]) if row else 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a server process and its children so far."""
    process = psutil.Process(pid)
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


async def measure(servers: dict[str, tuple[int, int]], token: str, path: str, rounds: int):
    """Alternate blocks of ``BLOCK`` requests between the servers; latencies and CPU each."""
    connections = {name: Connection(port, token) for name, (port, _) in servers.items()}
    for connection in connections.values():
        await connection.open()
        for _ in range(20):  # warm up: caches, prepared plans
            status, body = await connection.request("GET", path)
            assert status == 200, body
    samples: dict[str, list[float]] = {name: [] for name in servers}
    # CPU over the whole phase (an idle server uses none): the kernel counts in 10 ms ticks,
    # too coarse for a block
    cpu = {name: cpu_seconds(pid) for name, (_, pid) in servers.items()}
    done = 0
    while done < rounds:
        for name, connection in connections.items():
            for _ in range(min(BLOCK, rounds - done)):
                started = time.perf_counter()
                status, _ = await connection.request("GET", path)
                samples[name].append(time.perf_counter() - started)
                assert status == 200
            await asyncio.sleep(0.05)  # let the last audit rows of the block be written
        done += BLOCK
    for name, (_, pid) in servers.items():
        cpu[name] = cpu_seconds(pid) - cpu[name]
    for connection in connections.values():
        await connection.close()
    return {
        name: {
            **percentiles(samples[name]),
            "server_cpu_ms_per_request": round(cpu[name] * 1000 / len(samples[name]), 3),
        }
        for name in servers
    }


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--baseline", help="a copy of orga from before list reads were audited")
    args = parser.parse_args()
    roots = server_roots(args.baseline)
    with database_url("sqlite") as url, tempfile.TemporaryDirectory() as var:
        district, token = await prepare(url, args.people)
        processes = {name: start_server(url, 1, var, root=root) for name, root in roots.items()}
        try:
            servers = {name: (port, proc.pid) for name, (proc, port) in processes.items()}
            path = f"/api/orgs/{district}/people/?limit=50"
            figures = await measure(servers, token, path, args.rounds)
        finally:
            for proc, _ in processes.values():
                proc.terminate()
                proc.wait()
        rows = await audit_rows(url)
    result: dict = {
        "benchmark": "list_audit",
        "people": args.people,
        "requests_per_server": args.rounds + 20,
        "people_list_page": figures,
        "audit_rows": rows,
    }
    if "baseline" in figures:
        result["p50_ratio"] = round(
            figures["audited"]["p50_ms"] / max(figures["baseline"]["p50_ms"], 1e-9), 3
        )
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
