"""The roster cache: assignments and callers notify the other server processes on change."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import notify_changes

ID = "2026-11-23T08:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "NOTIFY orga_cache triggers for calling"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    notify_changes(manager, "calling_assignment")
    notify_changes(manager, "calling_caller")
    return manager
