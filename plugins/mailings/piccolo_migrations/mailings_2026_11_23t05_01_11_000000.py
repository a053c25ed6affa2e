"""Indexes of the mailings module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T05:01:11:000000"
VERSION = "1.38.0"
DESCRIPTION = "mailings indexes: one recipient per mailing and person, states, people"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mailings", description=DESCRIPTION)
    add_sql(manager, "CREATE INDEX mailings_mailing_org ON mailings_mailing (org_id, id)")
    add_sql(
        manager,
        "CREATE UNIQUE INDEX mailings_recipient_once ON mailings_recipient (mailing_id, person_id)",
    )
    add_sql(
        manager,
        "CREATE INDEX mailings_recipient_state ON mailings_recipient (mailing_id, state)",
    )
    add_sql(manager, "CREATE INDEX mailings_recipient_person ON mailings_recipient (person_id)")
    return manager
