"""Shifts (issue #26): one participation per person and shift (or per person and event for a
participation without shift), and the indexes the shift pages read through."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-06T02:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "events: unique participation per shift, shift indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)
    add_sql(
        manager,
        "DROP INDEX events_participation_once",
        "CREATE UNIQUE INDEX events_participation_once "
        "ON events_participation (event_id, person_id) WHERE shift_id IS NULL",
        "CREATE UNIQUE INDEX events_participation_shift_once "
        "ON events_participation (shift_id, person_id) WHERE shift_id IS NOT NULL",
        "CREATE INDEX events_participation_shift ON events_participation (shift_id, status, id)",
        "CREATE INDEX events_shift_event ON events_shift (event_id, start_at, id)",
    )
    return manager
