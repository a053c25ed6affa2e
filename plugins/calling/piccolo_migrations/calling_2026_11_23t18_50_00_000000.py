"""Drop ``calling_call_target``: no query looks calls up by their target (the target row
points at its live call instead), yet every call wrote the index twice, once when reserved
and once when reported."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T18:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the unused index of calls by target"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    add_sql(manager, "DROP INDEX IF EXISTS calling_call_target")
    return manager
