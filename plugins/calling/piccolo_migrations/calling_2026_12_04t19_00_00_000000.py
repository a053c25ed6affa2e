"""Record versions (issue #23): ``calling_assignment.version``, added to by a trigger on every UPDATE;
the call assignment's ETag comes from it (core/etags.py), so a PATCH with a stale If-Match is a 412."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_version

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "calling: calling_assignment.version for ETags"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    add_version(manager, "calling_assignment")
    return manager
