"""Indexes of the events module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T02:34:09:000000"
VERSION = "1.38.0"
DESCRIPTION = "events indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX events_event_org ON events_event (org_id, id)",
        "CREATE INDEX events_event_org_start ON events_event (org_id, start_at)",
    )
    return manager
