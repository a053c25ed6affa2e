"""A unit's members: adding them by e-mail (an invitation when there is no account yet) or by
the id of a user the admin already sees, never revealing whether an address has an account;
listing them, changing and taking away roles, disabling and enabling users. Nobody grants,
changes or takes away a role ranked above their own.

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
from core.auth.services import (
    assign_role,
    check_role,
    normalize_email,
    set_active,
    unassign_role,
)
from core.auth.tables import RoleAssignment, User
from core.context import current_runtime
from core.orgs.paths import is_under, subtree_sql, subtrees_sql
from core.pagination import Page, keyset_page
from core.problems import N_, FieldError, Problem, invalid, not_found

__all__ = [
    "INVITATION_LIFETIME",
    "add_by_email",
    "add_by_id",
    "add_member",
    "change_role",
    "check_grantable",
    "list_members",
    "member_names",
    "remove_member",
    "set_user_active",
]

INVITATION_LIFETIME = timedelta(days=7)


def check_grantable(actor: Actor, org_path: str, role: str) -> None:
    """Refuse a role ranked above the actor's own on the unit (403 ``role-above-own``)."""
    if actor.roles.rank(role) > actor.role_rank_at(org_path):
        message = N_("You cannot grant '%(role)s', it ranks above yours.")
        raise Problem(
            403,
            "role-above-own",
            message,
            title=N_("Permission denied"),
            errors=[FieldError("role", message)],
            values={"role": role},
        )


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
    check_role(role)
    email = normalize_email(email)
    if "@" not in email.strip("@"):
        raise invalid("email", N_("is not an e-mail address"))
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
    check_role(role)
    scopes = actor.scopes("members.manage")
    within, args = subtrees_sql("o.path", scopes)
    user = await db.fetch_one(
        "SELECT u.id, u.email, u.display_name FROM orga_user u WHERE u.id = {} AND EXISTS ("
        "SELECT 1 FROM role_assignment ra JOIN org_unit o ON o.id = ra.org_id "
        f"WHERE ra.user_id = u.id AND ({within}))",
        user_id,
        *args,
    )
    if user is None:
        raise invalid(
            "user_id", N_("no such user among the members you manage; add them by e-mail")
        )
    if await assign_role(user_id, org["id"], role, by=actor.user_id):
        await _notify(user, org, role, actor)
    return user["email"]


async def add_member(
    actor: Actor,
    org: dict[str, Any],
    role: str,
    *,
    email: str | None = None,
    user_id: int | None = None,
    display_name: str | None = None,
) -> str:
    """Give ``role`` on ``org`` by ``email`` (:func:`add_by_email`) or ``user_id``
    (:func:`add_by_id`), exactly one of them, never above the actor's own rank. Returns the
    address (the same answer whether the account existed or not).

    Raises:
        Problem: 422 naming ``email`` when both or neither are given, 403 for a role ranked
            above the actor's.
    """
    if (email is None) == (user_id is None):
        raise invalid("email", N_("give either email or user_id"))
    check_grantable(actor, org["path"], role)
    if email is not None:
        return await add_by_email(email, display_name, org, role, actor)
    assert user_id is not None
    return await add_by_id(user_id, org, role, actor)


async def remove_member(actor: Actor, org: dict[str, Any], user_id: int, role: str) -> None:
    """Take ``role`` on ``org`` away from ``user_id`` (audited ``role.revoked``).

    Raises:
        Problem: 403 for a role ranked above the actor's, 404 when it was not held there.
    """
    check_grantable(actor, org["path"], role)
    await unassign_role(user_id, org["id"], role, by=actor.user_id)


async def change_role(actor: Actor, org: dict[str, Any], user_id: int, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` for a member of ``org``: the new role is given as by
    :func:`add_by_id` (a notice by mail), then the old one taken away."""
    if old == new:
        return
    check_grantable(actor, org["path"], old)
    await add_member(actor, org, new, user_id=user_id)
    await unassign_role(user_id, org["id"], old, by=actor.user_id)


async def set_user_active(actor: Actor, org_path: str, user_id: int, active: bool) -> None:
    """Disable (every session and token ends at once) or enable a user who holds roles only
    inside the unit's subtree, none ranked above the actor's (audited).

    Raises:
        Problem: 404 for a user holding no role there or one outside it, 403 for a user whose
            highest role ranks above the actor's.
    """
    rows = await db.fetch(
        "SELECT ra.role AS role, o.path AS path FROM role_assignment ra "
        "JOIN org_unit o ON o.id = ra.org_id WHERE ra.user_id = {}",
        user_id,
    )
    if not rows or not all(is_under(r["path"], org_path) for r in rows):
        raise not_found("user")
    check_grantable(actor, org_path, max((r["role"] for r in rows), key=actor.roles.rank))
    await set_active(user_id, active, by=actor.user_id)


async def list_members(org_id: int, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The role assignments on the unit (``user_id``, ``email``, ``display_name``, ``role``,
    ``active``), a keyset page in the order they were made."""
    query = RoleAssignment.select(
        RoleAssignment.id,
        RoleAssignment.user.id.as_alias("user_id"),
        RoleAssignment.user.email.as_alias("email"),
        RoleAssignment.user.display_name.as_alias("display_name"),
        RoleAssignment.user.active.as_alias("active"),
        RoleAssignment.role,
    ).where(RoleAssignment.org == org_id)
    return await keyset_page(query, RoleAssignment.id, limit, cursor)


async def member_names(org_path: str, user_ids: list[int]) -> dict[int, str]:
    """Display names of those of ``user_ids`` who hold a role in the subtree at ``org_path``
    (the people working there; anyone else stays an id)."""
    if not user_ids:
        return {}
    marks = ", ".join(["{}"] * len(user_ids))
    within, args = subtree_sql("o.path", org_path)
    rows = await db.fetch(
        "SELECT DISTINCT u.id AS id, u.display_name AS name FROM orga_user u "
        "JOIN role_assignment ra ON ra.user_id = u.id JOIN org_unit o ON o.id = ra.org_id "
        f"WHERE u.id IN ({marks}) AND {within}",
        *user_ids,
        *args,
    )
    return {row["id"]: row["name"] for row in rows}
