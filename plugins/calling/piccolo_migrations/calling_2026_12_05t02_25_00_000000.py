"""Follow-ups get an assignee and a closing note (issue #25, the follow-ups inbox), and an index
by assignment so the progress page counts the people waiting for an organizer without a scan."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-05T02:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "calling: follow-up assignee and note, follow-ups by assignment"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    add_sql(
        manager,
        "ALTER TABLE calling_followup ADD COLUMN assigned_to INTEGER",
        "ALTER TABLE calling_followup ADD COLUMN note TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX calling_followup_assignment ON calling_followup "
        "(assignment_id, status, kind)",
    )
    return manager
