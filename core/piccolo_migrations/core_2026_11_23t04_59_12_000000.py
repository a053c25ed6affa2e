"""Postal-code coverage: lookups by code range and by unit."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T04:59:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "org_postcode indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX org_postcode_range ON org_postcode (code_from, code_to)",
        "CREATE INDEX org_postcode_org ON org_postcode (org_id)",
    )
    return manager
