"""The console's events list (issue #26): the events of a unit with the units below it, by
start time, read by walking ``(start_at, id)`` in order and stopping after a page, not by
sorting every upcoming event of the subtree. The new index serves every query the one on
``start_at`` alone did, which it replaces."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-06T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "events: index events_event (start_at, id) for the console's list"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX events_event_start_id ON events_event (start_at, id)",
        "DROP INDEX events_event_start",
    )
    return manager
