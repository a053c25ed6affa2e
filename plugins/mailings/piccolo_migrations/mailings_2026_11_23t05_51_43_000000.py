"""One sender identity per unit."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T05:51:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "one sender identity per unit"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mailings", description=DESCRIPTION)
    add_sql(manager, "CREATE UNIQUE INDEX mailings_sender_org ON mailings_sender (org_id)")
    return manager
