"""The weekly digest remembers on each activist the week of their latest digest
(``linksaktiv_activist.digest_week``), so a run's pick need not look into the digest items
it is writing (on PostgreSQL that self-reference scanned the growing table once per
activist: 300,000 activists took five minutes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-06T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "linksaktiv: the week of each activist's latest digest"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="linksaktiv", description=DESCRIPTION)
    add_sql(
        manager,
        "ALTER TABLE linksaktiv_activist ADD COLUMN digest_week VARCHAR(10) NULL",
        "UPDATE linksaktiv_activist SET digest_week = (SELECT MAX(d.week) FROM "
        "linksaktiv_digest_item d WHERE d.person_id = linksaktiv_activist.person_id)",
    )
    return manager
