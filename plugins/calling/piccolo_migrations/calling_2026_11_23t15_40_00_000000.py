"""The queue tables are analyzed rarely: after as many changes as they have rows (the lock
table, a few hundred live rows whose unique index tells the planner all it needs, after a
million changes).

Every call rewrites its target, lock and call rows, so the default (a tenth of the table)
re-analyzed ``calling_target`` every ~20 s and the lock table every autovacuum round at 500
calls/s. An ANALYZE costs up to ~0.1 s of CPU and makes every backend re-plan the reservation
statement, in bursts that showed as latency spikes (docs/design.md, "Calling at scale"). The
queue is read through its indexes, so the statistics hardly matter; vacuum is unchanged."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue tables: autoanalyze after as many changes as rows"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    add_sql(
        manager,
        postgres=(
            "ALTER TABLE calling_target SET (autovacuum_analyze_scale_factor = 1.0)",
            "ALTER TABLE calling_call SET (autovacuum_analyze_scale_factor = 1.0)",
            "ALTER TABLE calling_lock SET (autovacuum_analyze_threshold = 1000000)",
        ),
    )
    return manager
