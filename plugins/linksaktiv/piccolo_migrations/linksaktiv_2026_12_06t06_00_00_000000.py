"""The referral inbox (issue #27 item 6): when a referral reached its current unit
(``routed_at``, the start of the escalation time) and each step taken on it
(``linksaktiv_referral_step``: accepted, passed up, declined, escalated, with a note)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-12-06T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "linksaktiv: referral routed_at and steps"
_STEP_INDEXES = (
    "CREATE INDEX linksaktiv_referral_step_org ON linksaktiv_referral_step (org_id, id)",
    "CREATE INDEX linksaktiv_referral_step_referral ON linksaktiv_referral_step "
    "(referral_id, id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="linksaktiv", description=DESCRIPTION)
    add_sql(
        manager,
        "ALTER TABLE linksaktiv_referral ADD COLUMN routed_at TIMESTAMPTZ",
        "UPDATE linksaktiv_referral SET routed_at = created_at",
        "CREATE INDEX linksaktiv_referral_waiting ON linksaktiv_referral (status, routed_at)",
        postgres=(
            "CREATE TABLE linksaktiv_referral_step (id SERIAL PRIMARY KEY, "
            "referral_id INTEGER NOT NULL REFERENCES linksaktiv_referral (id) "
            "ON DELETE CASCADE ON UPDATE CASCADE, "
            "org_id INTEGER NOT NULL REFERENCES org_unit (id) ON DELETE CASCADE "
            "ON UPDATE CASCADE, "
            "to_org_id INTEGER REFERENCES org_unit (id) ON DELETE SET NULL ON UPDATE CASCADE, "
            "action VARCHAR(20) NOT NULL, note TEXT NOT NULL DEFAULT '', "
            "user_id INTEGER REFERENCES orga_user (id) ON DELETE SET NULL ON UPDATE CASCADE, "
            "created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            *_STEP_INDEXES,
        ),
        sqlite=(
            'CREATE TABLE linksaktiv_referral_step ("id" INTEGER PRIMARY KEY NOT NULL, '
            '"referral_id" INTEGER NOT NULL REFERENCES "linksaktiv_referral" ("id") '
            "ON DELETE CASCADE ON UPDATE CASCADE, "
            '"org_id" INTEGER NOT NULL REFERENCES "org_unit" ("id") ON DELETE CASCADE '
            "ON UPDATE CASCADE, "
            '"to_org_id" INTEGER REFERENCES "org_unit" ("id") ON DELETE SET NULL '
            "ON UPDATE CASCADE, "
            '"action" VARCHAR(20) NOT NULL, "note" TEXT NOT NULL DEFAULT \'\', '
            '"user_id" INTEGER REFERENCES "orga_user" ("id") ON DELETE SET NULL '
            "ON UPDATE CASCADE, "
            '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
            *_STEP_INDEXES,
        ),
    )
    return manager
