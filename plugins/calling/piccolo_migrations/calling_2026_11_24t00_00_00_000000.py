"""Only the queue is vacuumed after every 2,000 changes; the call and lock tables at a
slower pace, and the lock table is never truncated by vacuum.

Each VACUUM (and ANALYZE) of a table rewrites its ``pg_class`` row, which makes every
connection re-plan each statement that touches the table: the reservation statement touches
``calling_target``, ``calling_lock``, ``calling_call`` and ``audit_log``, and its re-plan costs
~2.5 ms. With all of them vacuumed in every autovacuum round, each round made every connection
re-plan it up to four times within ~0.1 s, and the calls queued behind that burst (measured:
re-planning alone 36–110 ms of latency per round at 510 calls/s; docs/design.md, "Calling at
scale"). Dead entries matter only at the queue's head, in ``calling_target``; calls and locks
are found by their ids and the person, where a few dead versions cost nothing. Truncating the
lock table's emptied tail takes an exclusive lock every reservation waits for."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-24T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "calls and locks: vacuum at a slower pace; never truncate the lock table"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    add_sql(
        manager,
        postgres=(
            "ALTER TABLE calling_call SET (autovacuum_vacuum_scale_factor = 0.2, "
            "autovacuum_vacuum_threshold = 20000, autovacuum_vacuum_insert_threshold = 100000, "
            "autovacuum_analyze_threshold = 100000)",
            "ALTER TABLE calling_lock SET (autovacuum_vacuum_threshold = 20000, "
            "autovacuum_vacuum_insert_threshold = 100000, vacuum_truncate = false)",
        ),
    )
    return manager
