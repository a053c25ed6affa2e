"""The activist console (issue #27): draft and published calls for regions, the activists'
last activity, and the weekly digest's record of what each activist was sent.

- ``linksaktiv_call.published_at`` (``NULL``: a draft; calls made before were live, so they
  count as published when they were made) and ``region_ids`` (units of the call's subtree it
  is for; empty: all of it).
- ``linksaktiv_activist.last_active_at``: joined, confirmed, did a call, ordered newspapers,
  changed their topics; filled from what is known.
- ``linksaktiv_digest_item``: one row per activist and call put in a digest.
- Indexes for the activist list's filters and keyset order.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-06T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "linksaktiv: call drafts and regions, last activity, digest items"

_DIGEST = (
    "CREATE TABLE linksaktiv_digest_item ({id}, "
    "person_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE, "
    "call_id INTEGER NOT NULL REFERENCES linksaktiv_call (id) ON DELETE CASCADE, "
    "week VARCHAR(10) NOT NULL, queued_at TIMESTAMPTZ NOT NULL, "
    "mailed_at TIMESTAMPTZ NULL)"
)
_DIGEST_INDEXES = (
    "CREATE UNIQUE INDEX linksaktiv_digest_once ON linksaktiv_digest_item (person_id, call_id)",
    "CREATE INDEX linksaktiv_digest_week ON linksaktiv_digest_item (person_id, week, queued_at)",
    "CREATE INDEX linksaktiv_digest_run ON linksaktiv_digest_item (week, queued_at)",
    "CREATE INDEX linksaktiv_digest_call ON linksaktiv_digest_item (call_id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="linksaktiv", description=DESCRIPTION)
    add_sql(
        manager,
        "ALTER TABLE linksaktiv_call ADD COLUMN published_at TIMESTAMPTZ NULL",
        "ALTER TABLE linksaktiv_call ADD COLUMN region_ids JSON NOT NULL DEFAULT '[]'",
        "UPDATE linksaktiv_call SET published_at = created_at",
        "ALTER TABLE linksaktiv_activist ADD COLUMN last_active_at TIMESTAMPTZ NULL",
        "UPDATE linksaktiv_activist SET last_active_at = COALESCE(confirmed_at, created_at)",
        "UPDATE linksaktiv_activist SET last_active_at = (SELECT MAX(d.done_at) FROM "
        "linksaktiv_call_done d WHERE d.person_id = linksaktiv_activist.person_id) "
        "WHERE EXISTS (SELECT 1 FROM linksaktiv_call_done d WHERE d.person_id = "
        "linksaktiv_activist.person_id AND d.done_at > linksaktiv_activist.last_active_at)",
        "CREATE INDEX linksaktiv_activist_source ON linksaktiv_activist (source, person_id)",
        "CREATE INDEX linksaktiv_activist_state ON linksaktiv_activist (status, person_id)",
        "CREATE INDEX linksaktiv_activist_active ON linksaktiv_activist (last_active_at)",
        "CREATE INDEX linksaktiv_call_published ON linksaktiv_call (published_at)",
        postgres=(_DIGEST.format(id="id SERIAL PRIMARY KEY"), *_DIGEST_INDEXES),
        sqlite=(_DIGEST.format(id="id INTEGER PRIMARY KEY NOT NULL"), *_DIGEST_INDEXES),
    )
    return manager
