"""First start and user creation from the command line."""

from __future__ import annotations

from typing import Any

from core import db
from core.audit.services import record
from core.auth.passwords import check_password_rules, hash_password
from core.auth.services import assign_role, create_user, normalize_email
from core.auth.tables import AuthToken, User
from core.cache import drop_cached
from core.orgs.services import create_unit, get_unit
from core.orgs.tables import OrgUnit
from core.tables import utcnow

__all__ = ["add_user", "initialize", "set_password"]


async def initialize(
    org_name: str, org_kind: str, admin_email: str, admin_name: str, password: str
) -> dict[str, Any]:
    """Create the root unit and its first admin.

    Raises:
        ValueError: when the e-mail already has a user or the deployment has a root unit.
    """
    if await User.exists().where(User.email == normalize_email(admin_email)).run():
        raise ValueError(f"a user with the e-mail {admin_email} already exists; nothing done")
    if await OrgUnit.exists().run():
        raise ValueError("already initialized (an org unit exists); use 'orga user create'")
    async with db.transaction():
        unit = await create_unit(org_name, org_kind, None)
        user = await create_user(admin_email, admin_name, password)
        await assign_role(user["id"], unit["id"], "admin", by=None)
        await record("deployment.initialized", user_id=user["id"], org_id=unit["id"])
    return {"org_id": unit["id"], "user_id": user["id"]}


async def add_user(
    email: str, display_name: str, password: str, org_id: int, role: str
) -> dict[str, Any]:
    """Create a user with ``role`` on ``org_id``.

    Raises:
        ValueError: when the e-mail already has a user or the unit does not exist.
    """
    if await User.exists().where(User.email == normalize_email(email)).run():
        raise ValueError(f"a user with the e-mail {email} already exists; nothing done")
    if await get_unit(org_id) is None:
        raise ValueError(f"there is no org unit {org_id}")
    async with db.transaction():
        user = await create_user(email, display_name, password)
        await assign_role(user["id"], org_id, role, by=None)
    return user


async def set_password(email: str, password: str) -> None:
    """Set a user's password (rules checked) and revoke every token of the user.

    Raises:
        ValueError: when no user has that e-mail.
    """
    user = await User.select(User.id).where(User.email == normalize_email(email)).first().run()
    if user is None:
        raise ValueError(f"there is no user with the e-mail {email}")
    check_password_rules(password)
    password_hash = await hash_password(password)
    async with db.transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user["id"]).run()
        await (
            AuthToken.update({AuthToken.revoked_at: utcnow()})
            .where((AuthToken.user == user["id"]) & AuthToken.revoked_at.is_null())
            .run()
        )
        await record("auth.password_set", object_type="user", object_id=user["id"])
    drop_cached("auth_token")
