"""Upkeep of the call queue: on PostgreSQL the queue is vacuumed often, the call and lock
tables and the audit log at a slower pace, and all are analyzed rarely (each vacuum or analyze
of them makes every connection re-plan the reservation statement); the call table carries no
index nobody reads (docs/design.md, "Calling at scale")."""

from __future__ import annotations

import pytest

from core import db


async def _options() -> dict[str, set[str]]:
    rows = await db.fetch(
        "SELECT relname, reloptions FROM pg_class WHERE relname IN "
        "('calling_target', 'calling_call', 'calling_lock', 'audit_log')"
    )
    return {row["relname"]: set(row["reloptions"] or []) for row in rows}


async def test_only_the_queue_is_vacuumed_often_and_all_are_analyzed_rarely(client, orga_backend):
    if orga_backend != "postgres":
        pytest.skip("PostgreSQL only")
    options = await _options()
    assert {"autovacuum_vacuum_threshold=2000", "autovacuum_vacuum_scale_factor=0"} <= options[
        "calling_target"
    ]
    for table in ("calling_call", "calling_lock"):
        assert "autovacuum_vacuum_threshold=20000" in options[table]
        assert "autovacuum_vacuum_insert_threshold=100000" in options[table]
    assert "autovacuum_vacuum_scale_factor=0.2" in options["calling_call"]
    assert "autovacuum_vacuum_scale_factor=0" in options["calling_lock"]
    assert "vacuum_truncate=false" in options["calling_lock"]
    assert "autovacuum_vacuum_insert_threshold=100000" in options["audit_log"]
    for table in ("calling_call", "audit_log"):
        assert "autovacuum_analyze_threshold=100000" in options[table]
    for table in ("calling_target", "calling_call"):
        assert "autovacuum_analyze_scale_factor=1.0" in options[table]
    assert "autovacuum_analyze_threshold=1000000" in options["calling_lock"]
    assert "autovacuum_analyze_scale_factor=1.0" in options["audit_log"]


async def test_calls_are_indexed_only_for_their_lookups(client, orga_backend):
    """A call row is written twice per call, so its table keeps only the indexes a query
    uses: by caller, by assignment and by person (not by target, which nothing asks)."""
    if orga_backend == "postgres":
        sql = "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'calling_call'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calling_call'"
    names = {row["name"] for row in await db.fetch(sql)} - {"calling_call_pkey"}
    names = {name for name in names if not name.startswith("sqlite_autoindex")}
    assert names == {"calling_call_caller", "calling_call_assignment", "calling_call_person"}
