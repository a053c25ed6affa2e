"""HTTP server choice: uvicorn vs granian serving orga's own endpoints on loopback.

Run: ``.venv/bin/python bench/server.py [--seconds 5] [--concurrency 32] [--rate 300]
[--connections 100]``. Needs granian (in the ``dev`` extra; uvicorn is what ``orga serve``
uses) and ``wrk`` (Debian package ``wrk``; a Python client could not load the servers enough
to tell them apart). Each server runs one process on a migrated SQLite demo database. Two
regimes, because they disagree:

- **saturated** (closed loop): wrk keeps ``--concurrency`` requests in flight, ``GET
  /api/health`` (database and migration check) and ``GET /api/me`` (token + grants):
  requests/s and p50/p99 at the most the server does.
- **open loop**, as a deployment runs (below saturation, clients arriving on their own):
  ``--connections`` keep-alive clients offer ``--rate`` ``GET /api/me`` per second together
  for ``--seconds``; the server's CPU per request (and the client's, whose work is fixed, to
  read it against the machine's speed) and p50/p99 from when each request was due. Each
  server is measured twice, interleaved, since this machine's speed drifts.

Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import time

import httpx
import uvloop

from bench._cpu import CpuSplit
from bench._http import Connection, percentiles
from core._pgserver import free_port

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def prepare(env: dict[str, str]) -> str:
    """Migrate, create the demo, log in; returns a bearer token."""
    subprocess.run([PY, "-m", "core", "migrate"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [PY, "-m", "core", "demo", "--people", "50"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    password = out.split("with password: ")[1].split()[0]
    return password


def command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [
            PY,
            "-m",
            "uvicorn",
            "core.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    return [
        PY,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "core.app:create_app",
    ]


def wrk(url: str, headers: dict, seconds: float, concurrency: int) -> dict:
    """Run wrk against ``url``; requests/s and latency percentiles."""
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["requests_per_second"] = round(float(parts[1]))
        elif parts[:1] in (["50%"], ["99%"]):
            value = parts[1]
            ms = (
                float(value[:-2])
                if value.endswith("ms")
                else (
                    float(value[:-2]) / 1000 if value.endswith("us") else float(value[:-1]) * 1000
                )
            )
            result[f"p{parts[0][:-1]}_ms"] = round(ms, 2)
        elif "Non-2xx" in line:
            raise RuntimeError(f"errors during load: {line}")
    return result


async def open_loop(port: int, token: str, pid: int, args) -> dict:
    """``args.connections`` clients offer ``args.rate`` ``GET /api/me``/s together (client
    ``i`` every ``connections / rate`` s, offset by ``i / rate``) for ``args.seconds``."""
    clients = [Connection(port, token) for _ in range(args.connections)]
    for client in clients:
        await client.open()
    latencies: list[float] = []
    interval = args.connections / args.rate

    async def client_loop(client: Connection, start: float, deadline: float) -> None:
        due = start
        while due < deadline:
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            status, _ = await client.request("GET", "/api/me")
            if status != 200:
                raise RuntimeError(f"GET /api/me answered {status}")
            latencies.append(time.perf_counter() - due)
            due += interval

    async def phase(seconds: float) -> None:
        start = time.perf_counter()
        await asyncio.gather(
            *(
                client_loop(client, start + i / args.rate, start + seconds)
                for i, client in enumerate(clients)
            )
        )

    await phase(2)  # warm-up: caches, the pool
    latencies.clear()
    cpu = CpuSplit([pid])
    cpu.start()
    await phase(args.seconds)
    usage = cpu.stop(len(latencies))
    for client in clients:
        await client.close()
    return {
        "requests_per_second": round(len(latencies) / args.seconds),
        **percentiles(latencies),
        "server_cpu_ms_per_request": usage["server_cpu_ms_per_reservation"],
        "client_cpu_ms_per_request": usage["load_generator_cpu_ms_per_reservation"],
        "machine_busy_percent": usage["machine_busy_percent"],
    }


async def measure(server: str, env: dict[str, str], password: str, args, saturated: bool) -> dict:
    """Start ``server`` and measure it: saturated (wrk) or open loop."""
    port = free_port()
    proc = subprocess.Popen(command(server, port), env=env, cwd=ROOT)  # noqa: ASYNC220
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(100):
                try:
                    if (await client.get("/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            login = await client.post(
                "/api/auth/login", json={"email": "admin@demo.orga.invalid", "password": password}
            )
            token = login.json()["token"]
        if not saturated:
            return await open_loop(port, token, proc.pid, args)
        auth = {"Authorization": f"Bearer {token}"}
        return {
            "health": await asyncio.to_thread(
                wrk, base + "/api/health", {}, args.seconds, args.concurrency
            ),
            "me": await asyncio.to_thread(
                wrk, base + "/api/me", auth, args.seconds, args.concurrency
            ),
        }
    finally:
        proc.terminate()
        proc.wait()


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=300, help="open loop: requests/s offered")
    parser.add_argument("--connections", type=int, default=100, help="open loop: clients")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
        env.update(
            ORGA_VAR_DIR=tmp,
            ORGA_WORKER="off",
            ORGA_ENV="production",
            ORGA_SECRET_KEY="bench-" + "k" * 40,
        )
        password = prepare(env)
        servers = ("uvicorn", "granian")
        saturated = {s: await measure(s, env, password, args, True) for s in servers}
        open_loop_runs: dict[str, list[dict]] = {s: [] for s in servers}
        for _ in range(2):
            for server in servers:
                open_loop_runs[server].append(await measure(server, env, password, args, False))
    return {
        "benchmark": "server",
        "saturated": {"concurrency": args.concurrency, **saturated},
        "open_loop": {"rate": args.rate, "connections": args.connections, **open_loop_runs},
    }


if __name__ == "__main__":
    print(json.dumps(uvloop.run(main()), indent=2))
