"""Indexes and uniqueness of the linksaktiv module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T05:02:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "linksaktiv indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="linksaktiv", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE UNIQUE INDEX linksaktiv_activist_person ON linksaktiv_activist (person_id)",
        "CREATE INDEX linksaktiv_activist_status ON linksaktiv_activist (status, created_at)",
        "CREATE UNIQUE INDEX linksaktiv_interest_once ON linksaktiv_interest (person_id, topic_id)",
        "CREATE INDEX linksaktiv_interest_topic ON linksaktiv_interest (topic_id, person_id)",
        "CREATE INDEX linksaktiv_call_org ON linksaktiv_call (org_id, id)",
        "CREATE UNIQUE INDEX linksaktiv_call_done_once ON linksaktiv_call_done (call_id, person_id)",
        "CREATE INDEX linksaktiv_call_done_person ON linksaktiv_call_done (person_id)",
        "CREATE INDEX linksaktiv_edition_org ON linksaktiv_edition (org_id, id)",
        "CREATE INDEX linksaktiv_order_org ON linksaktiv_order (org_id, id)",
        "CREATE INDEX linksaktiv_order_ship ON linksaktiv_order (org_id, delivery, id)",
        "CREATE INDEX linksaktiv_order_pickup ON linksaktiv_order (pickup_org_id, edition_id)",
        "CREATE INDEX linksaktiv_order_person ON linksaktiv_order (person_id)",
        "CREATE INDEX linksaktiv_order_edition ON linksaktiv_order (edition_id)",
        "CREATE INDEX linksaktiv_referral_org ON linksaktiv_referral (org_id, id)",
        "CREATE INDEX linksaktiv_referral_person ON linksaktiv_referral (person_id)",
    )
    return manager
