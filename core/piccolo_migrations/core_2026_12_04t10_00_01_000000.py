"""Indexes for erasure by person id: the few jobs and import errors that name a person."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-12-04T10:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "job and person_import_error: partial indexes on person_id"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX job_person ON job (person_id) WHERE person_id IS NOT NULL",
        "CREATE INDEX person_import_error_person ON person_import_error (person_id) "
        "WHERE person_id IS NOT NULL",
    )
    return manager
