"""Cache invalidation: the tables behind the actor and org-guard caches notify on change."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.cache import notify_changes

ID = "2026-11-23T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "NOTIFY orga_cache triggers"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    # last_used_at is touched once a minute per token and must not drop the caches; a new
    # token or user is not cached before it is used
    notify_changes(
        manager,
        "auth_token",
        update_of=("revoked_at", "expires_at", "permissions", "org_id", "user_id", "kind"),
        inserts=False,
    )
    notify_changes(manager, "orga_user", update_of=("active",), inserts=False)
    for table in ("role_assignment", "org_unit", "org_module", "tag"):
        notify_changes(manager, table)
    return manager
