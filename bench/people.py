"""People at scale: import a CSV of N people, then search, list and count segments.

Run: ``.venv/bin/python bench/people.py [--backend sqlite|postgres] [--people 1000000]``.
Targets (issue 4, 1,000,000 people): import ≤ 180 s on SQLite / ≤ 120 s on PostgreSQL with peak
memory ≤ 300 MB (the import runs as ``orga people import`` in its own process, whose peak RSS is
read from the kernel); segment count with three filters ≤ 200 ms; search by e-mail or phone
≤ 20 ms; a people list page ≤ 20 ms at any depth. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec

from bench._common import database_url, open_runtime
from bench._people import FIRST, LAST, org_tree
from core import db
from core.people.services import list_people
from core.segments.compiler import count_and_sample
from core.segments.types import segment_type


def write_csv(path: Path, count: int) -> None:
    """A German-style member list: names, e-mail, mobile number, postal code, status."""
    rng = random.Random(3)
    statuses = ["Mitglied", "Sympathisant", "Kontakt"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Vorname", "Nachname", "E-Mail", "Telefon", "PLZ", "Status"])
        for n in range(count):
            writer.writerow(
                [
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    f"mensch{n}@example.org",
                    f"0151 {10000000 + n}",
                    f"{rng.randrange(1000, 99999):05d}",
                    rng.choice(statuses),
                ]
            )


def timed_ms(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"p50_ms": round(samples[len(samples) // 2], 2), "max_ms": round(samples[-1], 2)}


async def measure(runtime_url: str, districts: list[int], root: int, people: int) -> dict:
    segment = segment_type([])
    three = msgspec.convert(
        {
            "where": {
                "type": "all",
                "of": [
                    {"type": "org", "org_id": districts[0]},
                    {"type": "member_status", "statuses": ["member"]},
                    {"type": "has_phone"},
                ],
            }
        },
        segment,
    )
    root_path = (await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", root))["path"]
    result = {}
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        count, _ = await count_and_sample(three, root_path)
        samples.append((time.perf_counter() - started) * 1000)
    result["segment_count_three_filters"] = {**timed_ms(samples), "count": count}
    rng = random.Random(9)
    for label, make in (
        ("search_email", lambda n: f"mensch{n}@example.org"),
        ("search_phone", lambda n: f"0151 {10000000 + n}"),
    ):
        samples = []
        for _ in range(50):
            n = rng.randrange(people)
            started = time.perf_counter()
            page = await list_people(
                root_path,
                q=make(n),
                member_status=None,
                tag=None,
                limit=50,
                cursor=None,
                region="DE",
            )
            samples.append((time.perf_counter() - started) * 1000)
            assert len(page.items) == 1, (label, n, len(page.items))
        result[label] = timed_ms(samples)
    for depth_label, fraction in (("list_page_first", 0.0), ("list_page_deep", 0.9)):
        start_id = int(people * fraction)
        from core.pagination import encode_cursor

        cursor = encode_cursor([start_id]) if start_id else None
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            page = await list_people(
                root_path,
                q=None,
                member_status=None,
                tag=None,
                limit=50,
                cursor=cursor,
                region="DE",
            )
            samples.append((time.perf_counter() - started) * 1000)
            assert len(page.items) == 50
        result[depth_label] = timed_ms(samples)
    return result


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database_url(args.backend) as url:
        source = Path(tmp) / "people.csv"
        write_csv(source, args.people)
        async with open_runtime(url) as runtime:
            tree = await org_tree()
            var_dir = runtime.settings.var_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
        env.update(ORGA_DATABASE_URL=url, ORGA_VAR_DIR=var_dir, ORGA_SECRET_KEY="bench-" + "k" * 40)
        started = time.perf_counter()
        done = subprocess.run(  # noqa: ASYNC221 - the measured command itself
            [
                sys.executable,
                "-m",
                "core",
                "people",
                "import",
                str(source),
                "--org",
                str(tree["districts"][0]),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        import_seconds = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(done.stderr)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        async with open_runtime(url):
            await db.execute("ANALYZE")
            queries = await measure(url, tree["districts"], tree["root"], args.people)
    return {
        "benchmark": "people",
        "backend": args.backend,
        "people": args.people,
        "import_seconds": round(import_seconds, 1),
        "import_peak_rss_mb": round(peak_mb),
        "import_output": done.stdout.strip().splitlines()[-1],
        **queries,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
