"""Adding members to a unit: by e-mail (an invitation when there is no account yet) or by the
id of a user the admin already sees, never revealing whether an address has an account.

Whatever the case, the admin's answer is the same, the audit rows of the unit are the same
(``role.granted``) and the address gets one mail: an invitation with a link to choose a
password (a new account), or a notice of the new role (an existing one that did not hold it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import db
from core.audit.services import record
from core.auth.actor import Actor
from core.auth.reset import password_link
from core.auth.roles import BUILTIN_ROLES
from core.auth.services import assign_role, normalize_email
from core.auth.tables import User
from core.context import current_runtime
from core.problems import invalid

__all__ = ["INVITATION_LIFETIME", "add_by_email", "add_by_id"]

INVITATION_LIFETIME = timedelta(days=7)


def _check_role(role: str) -> None:
    if role not in BUILTIN_ROLES:
        raise invalid("role", f"unknown role; one of {', '.join(BUILTIN_ROLES)}")


async def _inviter(actor: Actor) -> str:
    row = await db.fetch_one("SELECT display_name FROM orga_user WHERE id = {}", actor.user_id)
    return row["display_name"] if row else ""


async def _notify(user: dict[str, Any], org: dict[str, Any], role: str, actor: Actor) -> None:
    """Tell an existing user about the role they were given."""
    runtime = current_runtime()
    locale = runtime.settings.locale
    await runtime.mailer.send(
        to_email=user["email"],
        to_name=user["display_name"],
        template="mail/role_granted",
        context={
            "user_name": user["display_name"],
            "inviter": await _inviter(actor),
            "unit": org["name"],
            "role": role,
            "login_url": runtime.settings.public_url,
            "locale": locale,
        },
        locale=locale,
    )


async def add_by_email(
    email: str, display_name: str | None, org: dict[str, Any], role: str, actor: Actor
) -> str:
    """Give ``role`` on ``org`` to the account of ``email``, creating it (no password yet, an
    invitation to choose one) when there is none. Returns the normalized address.

    Raises:
        Problem: 422 naming ``role`` or ``email``, before anything is written.
    """
    _check_role(role)
    email = normalize_email(email)
    if "@" not in email.strip("@"):
        raise invalid("email", "is not an e-mail address")
    user = await db.fetch_one(
        "SELECT id, email, display_name FROM orga_user WHERE email = {}", email
    )
    if user is not None:
        if await assign_role(user["id"], org["id"], role, by=actor.user_id):
            await _notify(user, org, role, actor)
        return email
    name = display_name or email.partition("@")[0]
    rows = await User.insert(User(email=email, display_name=name, password_hash="")).run()
    user_id = rows[0]["id"]
    await assign_role(user_id, org["id"], role, by=actor.user_id)
    # not in the unit's audit list (no org): that list must not tell new from existing accounts
    await record("user.invited", user_id=actor.user_id, object_type="user", object_id=user_id)
    runtime = current_runtime()
    locale = runtime.settings.locale
    await runtime.mailer.send(
        to_email=email,
        to_name=name,
        template="mail/invitation",
        context={
            "inviter": await _inviter(actor),
            "unit": org["name"],
            "role": role,
            "link": await password_link(user_id, INVITATION_LIFETIME, runtime.settings.public_url),
            "days": INVITATION_LIFETIME.days,
            "locale": locale,
        },
        locale=locale,
    )
    return email


async def add_by_id(user_id: int, org: dict[str, Any], role: str, actor: Actor) -> str:
    """Give ``role`` on ``org`` to a user the actor already sees: one holding a role where the
    actor manages members. Returns the user's address.

    Raises:
        Problem: 422 naming ``user_id`` for any other id (unknown or not visible alike), or
            ``role``, before anything is written.
    """
    _check_role(role)
    scopes = actor.scopes("members.manage")
    within = " OR ".join("substr(o.path, 1, {}) = {}" for _ in scopes) or "FALSE"
    args: list[Any] = [user_id]
    for path in scopes:
        args += [len(path), path]
    user = await db.fetch_one(
        "SELECT u.id, u.email, u.display_name FROM orga_user u WHERE u.id = {} AND EXISTS ("
        "SELECT 1 FROM role_assignment ra JOIN org_unit o ON o.id = ra.org_id "
        f"WHERE ra.user_id = u.id AND ({within}))",
        *args,
    )
    if user is None:
        raise invalid("user_id", "no such user among the members you manage; add them by e-mail")
    if await assign_role(user_id, org["id"], role, by=actor.user_id):
        await _notify(user, org, role, actor)
    return user["email"]
