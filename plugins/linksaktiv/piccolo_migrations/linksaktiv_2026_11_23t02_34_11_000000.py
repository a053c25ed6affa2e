"""Indexes of the linksaktiv module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T02:34:11:000000"
VERSION = "1.38.0"
DESCRIPTION = "linksaktiv indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="linksaktiv", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX linksaktiv_edition_org ON linksaktiv_edition (org_id, id)",
    )
    return manager
