"""Indexes of the events module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T04:59:55:000000"
VERSION = "1.38.0"
DESCRIPTION = "events indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX events_event_org ON events_event (org_id, id)",
        "CREATE INDEX events_event_public ON events_event "
        "(org_id, visibility, state, end_at, start_at)",
        "CREATE INDEX events_event_org_start ON events_event (org_id, start_at, id)",
        "CREATE INDEX events_event_start ON events_event (start_at)",
        "CREATE INDEX events_event_type ON events_event (type, start_at)",
        "CREATE INDEX events_event_campaign ON events_event (campaign, start_at)",
        "CREATE INDEX events_event_series ON events_event (series_id)",
        "CREATE INDEX events_event_contact ON events_event (contact_person_id)",
        "CREATE UNIQUE INDEX events_participation_once "
        "ON events_participation (event_id, person_id)",
        "CREATE INDEX events_participation_event ON events_participation (event_id, status, id)",
        "CREATE INDEX events_participation_person "
        "ON events_participation (person_id, status, attendance)",
    )
    return manager
