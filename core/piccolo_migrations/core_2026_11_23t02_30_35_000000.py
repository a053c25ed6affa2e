"""Core indexes: composite uniques and the indexes behind every filter core offers."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-11-23T02:30:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "core indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    add_sql(
        manager,
        "CREATE UNIQUE INDEX org_module_org_module ON org_module (org_id, module)",
        "CREATE UNIQUE INDEX role_assignment_user_org_role"
        " ON role_assignment (user_id, org_id, role)",
        "CREATE INDEX role_assignment_org ON role_assignment (org_id)",
        "CREATE INDEX auth_token_user ON auth_token (user_id)",
        "CREATE INDEX password_reset_user ON password_reset (user_id)",
        "CREATE INDEX login_attempt_key_at ON login_attempt (key, at)",
        "CREATE INDEX audit_log_org ON audit_log (org_id, id)",
        "CREATE INDEX audit_log_user ON audit_log (user_id, id)",
        "CREATE INDEX audit_log_action ON audit_log (action, id)",
        "CREATE INDEX person_home_org ON person (home_org_id, id)",
        "CREATE UNIQUE INDEX person_phone_person_e164 ON person_phone (person_id, e164)",
        "CREATE UNIQUE INDEX tag_org_name ON tag (org_id, name)",
        "CREATE UNIQUE INDEX person_tag_person_tag ON person_tag (person_id, tag_id)",
        "CREATE INDEX person_tag_tag ON person_tag (tag_id, person_id)",
        "CREATE INDEX consent_event_person ON consent_event (person_id, channel, id)",
    )

    return manager
