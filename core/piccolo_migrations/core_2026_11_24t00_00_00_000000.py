"""The audit log is vacuumed for its inserts after 100,000 new rows, not every 1,000, and
analyzed first after 100,000 changes.

It is append-only: a vacuum only marks its pages all-visible, which no query here needs
soon. But each VACUUM or ANALYZE of it makes every connection re-plan each statement that
writes audit rows, and during a phone campaign (two audit rows per call) the defaults did so
in every autovacuum round (docs/design.md, "Calling at scale")."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-24T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log: vacuum for inserts and first analyze after 100,000 rows"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        postgres=(
            "ALTER TABLE audit_log SET (autovacuum_vacuum_insert_threshold = 100000, "
            "autovacuum_analyze_threshold = 100000)",
        ),
    )
    return manager
