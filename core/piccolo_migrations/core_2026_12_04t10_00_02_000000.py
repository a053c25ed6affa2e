"""Uploads kept before this version go too: each import with a stored file gets a
``people.import_expire`` job, due now. It deletes the files of ended imports and lets
unconfirmed ones expire (upload them again); it never touches a file outside
``<ORGA_VAR_DIR>/imports`` (the files ``orga people import`` read in place)."""

import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core import db
from core.tables import utcnow

ID = "2026-12-04T10:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "person_import: expire the uploads kept so far"


async def _expire_old_uploads() -> None:
    rows = await db.fetch(
        "SELECT id FROM person_import WHERE status IN ('uploaded', 'done', 'failed')"
    )
    now = utcnow()
    for row in rows:
        await db.execute(
            "INSERT INTO job (kind, payload, run_at, attempts, max_attempts, status, "
            "dedupe_key, created_at, updated_at) VALUES ('people.import_expire', {}, {}, 0, 8, "
            "'queued', {}, {}, {}) ON CONFLICT (dedupe_key) DO NOTHING",
            json.dumps({"import_id": row["id"]}),
            now,
            f"people.import_expire:{row['id']}",
            now,
            now,
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_expire_old_uploads)
    return manager
