"""The console keeps the user's name and address per process (core/web/render.py): on
PostgreSQL a change of ``display_name`` or ``email`` now NOTIFYs the caches too, as a change
of ``active`` did already."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.cache import notify_changes

ID = "2026-12-05T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core: cache notifications for a user's name and address"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    notify_changes(
        manager, "orga_user", update_of=("active", "display_name", "email"), inserts=False
    )
    return manager
