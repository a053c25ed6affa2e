"""Indexes of the mailings module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T02:34:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "mailings indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mailings", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX mailings_mailing_org ON mailings_mailing (org_id, id)",
    )
    return manager
