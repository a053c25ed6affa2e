"""Indexes of the job queue and mail suppression."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T02:48:28:000000"
VERSION = "1.38.0"
DESCRIPTION = "job indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE UNIQUE INDEX job_dedupe_key ON job (dedupe_key)",
        "CREATE INDEX job_due ON job (status, run_at, id)",
        "CREATE INDEX job_lease ON job (status, lease_expires_at)",
    )
    return manager
