"""Indexes of the calling module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T02:34:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "calling indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX calling_assignment_org ON calling_assignment (org_id, id)",
    )
    return manager
