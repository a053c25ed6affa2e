"""Segment counts by unit, status and phone read one covering index; existing flags filled."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T04:20:15:000000"
VERSION = "1.38.0"
DESCRIPTION = "has_phone flag index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        "UPDATE person SET has_phone = EXISTS (SELECT 1 FROM person_phone ph "
        "WHERE ph.person_id = person.id AND ph.valid)",
        "DROP INDEX person_status_org",
        "CREATE INDEX person_status_org_phone ON person (member_status, home_org_id, has_phone)",
    )
    return manager
