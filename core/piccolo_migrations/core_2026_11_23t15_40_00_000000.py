"""The audit log is analyzed when it has doubled, not after every tenth more rows.

It is append-only and read only through its indexes (by unit, user or action, newest first),
so fresh statistics change no plan; but each ANALYZE costs ~0.1 s of CPU and makes every
backend re-plan the statements that write audit rows. During a phone campaign (two audit rows
per call) the default ran it every few seconds (docs/design.md, "Calling at scale")."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log: autoanalyze after the table doubled"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        postgres=("ALTER TABLE audit_log SET (autovacuum_analyze_scale_factor = 1.0)",),
    )
    return manager
