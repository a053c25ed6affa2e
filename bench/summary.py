"""``make bench``: every benchmark at a size that finishes in about ten minutes, one table.

Run: ``.venv/bin/python bench/summary.py [--quick]``. Each script runs in its own process (as
its one command would) and prints JSON; this collects the figures and prints figure, target,
measured and pass/fail. Sizes are smaller than the issues' full scale (named in each row), so
these are a regression check on one machine; the full-scale figures and the commands that
produce them are in docs/design.md. Exits 1 when a figure misses its target or a script fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Figure:
    """One row: what, the target, how to read the measured value, and whether it passes."""

    label: str
    target: str
    read: Callable[[dict[str, Any]], float]
    ok: Callable[[float], bool]
    unit: str = ""


@dataclass
class Bench:
    """A benchmark script, its arguments at summary size, and the figures it yields."""

    script: str
    args: list[str]
    figures: list[Figure]
    needs: str | None = None


BENCHES = [
    Bench(
        "sqlite_engine.py",
        ["--seconds", "1"],
        [
            Figure(
                "SQLite engine vs stock Piccolo, raw SQL, 1 task",
                "≥ 10x",
                lambda r: r["speedup"]["raw_1_task"],
                lambda v: v >= 10,
                "x",
            ),
        ],
    ),
    Bench(
        "authz.py",
        ["--people", "20000", "--rounds", "200"],
        [
            Figure(
                "GET /api/me p95 (SQLite)",
                "≤ 20 ms",
                lambda r: r["get_me"]["p95_ms"],
                lambda v: v <= 20,
                " ms",
            ),
            Figure(
                "people list page p95, 20k people (SQLite)",
                "≤ 20 ms",
                lambda r: r["people_list_page"]["p95_ms"],
                lambda v: v <= 20,
                " ms",
            ),
        ],
    ),
    Bench(
        "list_audit.py",
        ["--people", "20000", "--rounds", "400"],
        [
            Figure(
                "people list page over HTTP p95, audited (SQLite)",
                "≤ 20 ms",
                lambda r: r["people_list_page"]["audited"]["p95_ms"],
                lambda v: v <= 20,
                " ms",
            ),
            Figure(
                "audit rows per people list page",
                "= 1",
                lambda r: r["audit_rows"] / r["requests_per_server"],
                lambda v: v == 1,
            ),
        ],
    ),
    Bench(
        "console.py",
        ["--backend", "postgres", "--people", "100000", "--rounds", "200"],
        [
            Figure(
                f"console: {label} p95 (100k people, PostgreSQL; 1M target the same)",
                f"≤ {target:g} ms",
                lambda r, page=page: r["pages"][page]["p95_ms"],
                lambda v, target=target: v <= target,
                " ms",
            )
            for page, label, target in (
                ("people_search", "people list with a search", 30),
                ("people_segment", "people list with a search and a segment", 30),
                ("person", "person page", 20),
                ("start", "start page", 20),
            )
        ],
        needs="postgres",
    ),
    Bench(
        "people.py",
        ["--people", "100000"],
        [
            Figure(
                "import 100k rows (SQLite; 1M target 180 s)",
                "≤ 18 s",
                lambda r: r["import_seconds"],
                lambda v: v <= 18,
                " s",
            ),
            Figure(
                "import peak memory",
                "≤ 300 MB",
                lambda r: r["import_peak_rss_mb"],
                lambda v: v <= 300,
                " MB",
            ),
            Figure(
                "segment count, 3 filters, p50",
                "≤ 200 ms",
                lambda r: r["segment_count_three_filters"]["p50_ms"],
                lambda v: v <= 200,
                " ms",
            ),
        ],
    ),
    Bench(
        "mail.py",
        ["--render", "30000", "--deliver", "1000"],
        [
            Figure(
                "render + enqueue 30k mails (100k target 30 s)",
                "≤ 9 s",
                lambda r: r["render_enqueue_seconds"],
                lambda v: v <= 9,
                " s",
            ),
            Figure(
                "mail delivery to an SMTP sink, 1 worker",
                "≥ 300/s",
                lambda r: r["deliver_mails_per_second"],
                lambda v: v >= 300,
                "/s",
            ),
        ],
    ),
    Bench(
        "calling.py",
        [
            "--backend",
            "postgres",
            "--people",
            "50000",
            "--targets",
            "40000",
            "--callers",
            "100",
            "--seconds",
            "8",
            "--capacity-seconds",
            "0",
            "--rate",  # a little above the target: an open loop serves at most what it is offered
            "510",
        ],
        [
            Figure(
                "call reservations/s served of 510/s offered, 100 callers over HTTP (PostgreSQL)",
                "≥ 500/s",
                lambda r: min(
                    r["phase1"]["reservations_per_s"],
                    r["phase2_after_bulk_calls"]["reservations_per_s"],
                ),
                lambda v: v >= 500,
                "/s",
            ),
            Figure(
                "call reservation p99",
                "≤ 100 ms",
                lambda r: max(
                    r["phase1"]["next"]["p99_ms"], r["phase2_after_bulk_calls"]["next"]["p99_ms"]
                ),
                lambda v: v <= 100,
                " ms",
            ),
            Figure(
                "people handed out twice", "0", lambda r: r["people_called_twice"], lambda v: v == 0
            ),
        ],
        needs="postgres",
    ),
    Bench(
        "calling_console.py",
        [
            "--backend",
            "postgres",
            "--people",
            "100000",
            "--targets",
            "50000",
            "--callers",
            "50",
            "--seconds",
            "8",
        ],
        [
            Figure(
                "console call screen: calls/s served of 310/s offered, 50 callers (PostgreSQL)",
                "≥ 300/s",
                lambda r: r["window"]["calls_per_s"],
                lambda v: v >= 300,
                "/s",
            ),
            Figure(
                "console call screen p99 per step (save and next, next card)",
                "≤ 100 ms",
                lambda r: r["step_p99_ms"],
                lambda v: v <= 100,
                " ms",
            ),
            Figure(
                "progress page p95 during the calls, 50k targets",
                "≤ 100 ms",
                lambda r: r["window"]["progress_page"]["p95_ms"],
                lambda v: v <= 100,
                " ms",
            ),
            Figure(
                "people handed to two callers (console)",
                "0",
                lambda r: r["people_handed_to_two_callers"],
                lambda v: v == 0,
            ),
        ],
        needs="postgres",
    ),
    Bench(
        "events.py",
        ["--events", "10000", "--participations", "100000", "--rounds", "150"],
        [
            Figure(
                "public event list p95, 10k events / 100k participations",
                "≤ 20 ms",
                lambda r: r["public_list_unit"]["p95_ms"],
                lambda v: v <= 20,
                " ms",
            ),
            Figure(
                "public event page p95",
                "≤ 20 ms",
                lambda r: r["public_event_page"]["p95_ms"],
                lambda v: v <= 20,
                " ms",
            ),
        ],
    ),
    # --- events26: the organizer's events list (issue #26) ---
    Bench(
        "events_console.py",
        [
            "--backend",
            "postgres",
            "--events",
            "10000",
            "--participations",
            "100000",
            "--rounds",
            "150",
        ],
        [
            Figure(
                f"console events list p95, {label} (10k events / 100k participations, PostgreSQL)",
                "≤ 30 ms",
                lambda r, page=page: r["pages"][page]["p95_ms"],
                lambda v: v <= 30,
                " ms",
            )
            for page, label in (
                ("list_district_upcoming", "a district, upcoming"),
                ("list_district_past", "a district, past"),
                ("list_federal_upcoming", "federal with the units below"),
                ("list_federal_type", "federal, one type"),
                ("list_federal_month", "federal, a month"),
            )
        ],
        needs="postgres",
    ),
    # mailings26 (issue #26): the composer's live preview
    Bench(
        "mailings_console.py",
        ["--backend", "postgres", "--people", "100000", "--requests", "300"],
        [
            Figure(
                "mailing composer live preview p95, recipient among 100k people (PostgreSQL)",
                "≤ 50 ms",
                lambda r: r["preview"]["p95_ms"],
                lambda v: v <= 50,
                " ms",
            ),
        ],
        needs="postgres",
    ),
    Bench(
        "mailings.py",
        ["--people", "20000", "--render", "5000", "--deliver", "1000"],
        [
            Figure(
                "freeze 20k recipients (100k target 10 s)",
                "≤ 2 s",
                lambda r: r["freeze_seconds"],
                lambda v: v <= 2,
                " s",
            ),
            Figure(
                "mailing render rate",
                "≥ 2,000/s",
                lambda r: r["render_mails_per_second"],
                lambda v: v >= 2000,
                "/s",
            ),
            Figure(
                "mailing delivery, 1 worker process",
                "≥ 300/s",
                lambda r: r["deliver_mails_per_second"],
                lambda v: v >= 300,
                "/s",
            ),
        ],
    ),
    Bench(
        "linksaktiv.py",
        ["--backend", "postgres", "--seconds", "8", "--orders", "100000"],
        [
            Figure(
                "linksaktiv sign-ups/s over HTTP (PostgreSQL)",
                "≥ 200/s",
                lambda r: r["signup"]["signups_per_second"],
                lambda v: v >= 200,
                "/s",
            ),
            Figure(
                "shipping CSV, 100k orders",
                "≤ 10 s",
                lambda r: r["shipping_export"]["seconds"],
                lambda v: v <= 10,
                " s",
            ),
        ],
        needs="postgres",
    ),
    # --- activists27: the activist list and the weekly digest's enqueue (issue #27) ---
    Bench(
        "linksaktiv_console.py",
        ["--backend", "postgres", "--people", "100000", "--activists", "30000", "--rounds", "100"],
        [
            Figure(
                f"activist list {label} p95 (100k people, 30k activists, PostgreSQL; "
                "1M/300k target the same)",
                "≤ 30 ms",
                lambda r, name=name: r["list"][name]["p95_ms"],
                lambda v: v <= 30,
                " ms",
            )
            for name, label in (
                ("all", "unfiltered"),
                ("topic", "by topic"),
                ("district", "of a district"),
                ("second_page", "second page"),
            )
        ]
        + [
            Figure(
                "digest enqueue, 30k activists (PostgreSQL; 300k target 60 s)",
                "≤ 6 s",
                lambda r: r["digest"]["enqueue_seconds"],
                lambda v: v <= 6,
                " s",
            )
        ],
        needs="postgres",
    ),
    Bench(
        "events_checkin.py",
        ["--backend", "sqlite", "--people", "20000", "--participations", "100000"],
        [
            Figure(
                "check-in tap p95, 1,000 at the event / 100k participations",
                "≤ 20 ms",
                lambda r: r["pages"]["checkin_tap"]["p95_ms"],
                lambda v: v <= 20,
                " ms",
            ),
            Figure(
                "event participants page p95",
                "≤ 30 ms",
                lambda r: r["pages"]["participants_page"]["p95_ms"],
                lambda v: v <= 30,
                " ms",
            ),
        ],
    ),
]


def _postgres_available() -> bool:
    sys.path.insert(0, str(ROOT))
    from core._pgserver import find_pg_bin

    return find_pg_bin() is not None


def run(bench: Bench) -> tuple[dict[str, Any] | None, str, float]:
    """Run one script; its JSON (or None) and stderr tail and seconds taken."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / bench.script), *bench.args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    text = done.stdout
    try:
        return json.loads(text[text.index("{") :]), done.stderr[-500:], seconds
    except ValueError:
        return None, (done.stderr or done.stdout)[-500:], seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="script names to run (default: all)")
    args = parser.parse_args()
    postgres = _postgres_available()
    rows: list[tuple[str, str, str, str]] = []
    failed = False
    for bench in BENCHES:
        if args.only and bench.script.removesuffix(".py") not in args.only:
            continue
        if not (ROOT / "bench" / bench.script).exists():
            continue
        if bench.needs == "postgres" and not postgres:
            rows += [(f.label, f.target, "skipped: no PostgreSQL", "-") for f in bench.figures]
            continue
        result, error, seconds = run(bench)
        print(f"{bench.script}: {seconds:.0f} s", file=sys.stderr)
        for figure in bench.figures:
            if result is None:
                rows.append((figure.label, figure.target, f"error: {error.strip()[:60]}", "FAIL"))
                failed = True
                continue
            value = figure.read(result)
            good = figure.ok(value)
            failed |= not good
            shown = f"{value:,.2f}".rstrip("0").rstrip(".") + figure.unit
            rows.append((figure.label, figure.target, shown, "pass" if good else "FAIL"))
    widths = [
        max(len(r[i]) for r in [("figure", "target", "measured", "result"), *rows])
        for i in range(4)
    ]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format("figure", "target", "measured", "result"))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    if shutil.which("wrk") is None:
        print("(bench/server.py needs wrk and is not part of the summary)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
