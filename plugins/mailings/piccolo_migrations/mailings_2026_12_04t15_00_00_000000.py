"""Reliable delivery (issue #22): ``mailings_mailing.send_key``, ``mailings_recipient.attempts``.

- ``send_key``: random, drawn when sending starts; part of every Message-ID of the mailing, so
  a restored copy or a staging deployment never reuses one. Mailings that started before get
  a key now (their rows not sent yet then carry it).
- ``attempts``: temporary failures of one recipient; after a limit the row is ``failed``.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-04T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mailings: send_key (Message-IDs), recipient attempts"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mailings", description=DESCRIPTION)
    add_sql(
        manager,
        "ALTER TABLE mailings_mailing ADD COLUMN send_key VARCHAR(32)",
        "ALTER TABLE mailings_recipient ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        postgres=(
            "UPDATE mailings_mailing SET send_key = substr(md5(random()::text || id::text), 1, 16) "
            "WHERE state <> 'draft' AND state <> 'scheduled'",
        ),
        sqlite=(
            "UPDATE mailings_mailing SET send_key = lower(hex(randomblob(8))) "
            "WHERE state <> 'draft' AND state <> 'scheduled'",
        ),
    )
    return manager
