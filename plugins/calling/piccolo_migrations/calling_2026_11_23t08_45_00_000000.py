"""The roster cache: assignments and callers notify the other server processes on change.
The queue tables are vacuumed after a fixed number of changes instead of a fifth of the table:
every call rewrites its target and lock rows, and dead entries at the queue's head slow the
next reservation down (see docs/modules/calling.md)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql, notify_changes

ID = "2026-11-23T08:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "NOTIFY orga_cache triggers for calling"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    notify_changes(manager, "calling_assignment")
    notify_changes(manager, "calling_caller")
    add_sql(
        manager,
        postgres=tuple(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0)"
            for table in ("calling_target", "calling_lock", "calling_call")
        ),
    )
    return manager
