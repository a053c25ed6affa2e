"""People search indexes: prefix search on e-mail and names, filters of the people list."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T03:00:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "people search indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX person_member_status ON person (member_status, id)",
        "CREATE UNIQUE INDEX custom_field_org_key ON custom_field (org_id, key)",
        postgres=(
            "CREATE INDEX person_email_prefix ON person (email text_pattern_ops)",
            "CREATE INDEX person_first_key_prefix ON person (first_key text_pattern_ops)",
            "CREATE INDEX person_last_key_prefix ON person (last_key text_pattern_ops)",
            "CREATE INDEX person_postal_prefix ON person (postal_code text_pattern_ops)",
            "CREATE INDEX person_phone_prefix ON person_phone (e164 text_pattern_ops)",
        ),
    )
    return manager
