"""Indexes for counting segments at scale: status with home unit, valid phones."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T03:58:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "segment count indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX person_status_org ON person (member_status, home_org_id)",
        "CREATE INDEX person_phone_valid ON person_phone (person_id) WHERE valid",
    )
    return manager
