"""User, session and token services: login with throttling, tokens, roles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import db
from core.audit.services import record
from core.auth import throttle
from core.auth.actor import Actor, hash_token
from core.auth.passwords import check_password_rules, hash_password, verify_password
from core.auth.roles import BUILTIN_ROLES
from core.auth.tables import AuthToken, RoleAssignment, User
from core.cache import drop_cached
from core.orgs.paths import ancestors_sql
from core.pagination import Page, keyset_page
from core.problems import N_, Problem, conflict, invalid, not_found
from core.tables import utcnow

__all__ = [
    "IssuedToken",
    "assign_role",
    "change_password",
    "check_role",
    "create_api_token",
    "create_user",
    "issue_token",
    "login",
    "normalize_email",
    "revoke_token",
    "sessions_page",
    "set_active",
    "set_display_name",
    "unassign_role",
    "user_profile",
    "user_tokens",
    "users_with_permission",
]

MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token: the secret is shown once and never stored."""

    id: int
    secret: str
    expires_at: datetime | None


def normalize_email(email: str) -> str:
    """Trim and lowercase an e-mail address for lookups and uniqueness."""
    return email.strip().lower()


async def create_user(
    email: str, display_name: str, password: str, *, person_id: int | None = None
) -> dict[str, Any]:
    """Create an active user after checking the password rules.

    Raises:
        Problem: 409 when the e-mail is taken, 422 when the password breaks a rule.
    """
    email = normalize_email(email)
    if "@" not in email:
        raise invalid("email", "is not an e-mail address")
    check_password_rules(password)
    if await User.exists().where(User.email == email).run():
        raise conflict(f"A user with the e-mail {email} already exists.", field="email")
    password_hash = await hash_password(password)
    rows = await User.insert(
        User(
            email=email,
            display_name=display_name or email,
            password_hash=password_hash,
            person_id=person_id,
        )
    ).run()
    user = (
        await User.select(User.id, User.email, User.display_name, User.active)
        .where(User.id == rows[0]["id"])
        .first()
        .run()
    )
    assert user is not None
    return user


async def issue_token(
    user_id: int,
    *,
    kind: str = "session",
    lifetime: timedelta | None = None,
    name: str | None = None,
    org_id: int | None = None,
    permissions: list[str] | None = None,
    user_agent: str | None = None,
) -> IssuedToken:
    """Create a token with 256 random bits; only its SHA-256 is stored."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + lifetime if lifetime else None
    rows = await AuthToken.insert(
        AuthToken(
            user=user_id,
            token_hash=hash_token(secret),
            kind=kind,
            name=name,
            org=org_id,
            permissions=permissions,
            last_used_at=now,
            expires_at=expires_at,
            user_agent=(user_agent or "")[:300] or None,
        )
    ).run()
    return IssuedToken(id=rows[0]["id"], secret=secret, expires_at=expires_at)


async def create_api_token(
    actor: Actor,
    org_id: int,
    org_path: str,
    name: str,
    permissions: list[str],
    expires_in_days: int | None,
) -> IssuedToken:
    """An integration token of the actor scoped to the unit and a subset of the actor's own
    permissions there (audited ``token.created``); only an interactive login makes one.

    Raises:
        Problem: 403 ``session-required`` for an API token, 422 naming ``permissions`` for a
            permission the actor does not hold on the unit.
    """
    actor.require_session()
    missing = [p for p in permissions if not actor.can(p, org_path)]
    if missing:
        raise invalid("permissions", N_("you do not hold: %(missing)s"), missing=", ".join(missing))
    token = await issue_token(
        actor.user_id,
        kind="api",
        name=name,
        org_id=org_id,
        permissions=sorted(set(permissions)),
        lifetime=timedelta(days=expires_in_days) if expires_in_days else None,
    )
    await record("token.created", object_type="token", object_id=token.id, org_id=org_id)
    return token


def _bad_credentials() -> Problem:
    return Problem(
        401, "invalid-credentials", "E-mail or password is wrong.", title=N_("Login failed")
    )


async def login(
    email: str,
    password: str,
    *,
    client: str,
    user_agent: str | None,
    absolute: timedelta,
    kind: str = "session",
) -> tuple[IssuedToken, dict[str, Any]]:
    """Check credentials and open a session (``kind``: ``session`` for the API's bearer
    token, ``console`` for the console's cookie).

    Failed attempts are counted per client address, per account and per account and address.
    An address with too many failures in the window gets 429 with ``Retry-After`` for every
    account. An account with too many failures is not locked: only the addresses that failed
    on it get 429, and the right password still works at once from any other address, so
    nobody can lock another user (an admin) out by guessing. Unknown e-mail and wrong
    password give the same 401; unknown accounts are counted and throttled the same way.
    """
    email = normalize_email(email)
    account = throttle.key("account", email)
    address = throttle.key("address", client)
    pair = throttle.key("account-address", email, client)
    failures = await throttle.counts([account, address, pair])
    if failures[address] >= MAX_FAILURES_PER_ADDRESS or (
        failures[account] >= MAX_FAILURES_PER_ACCOUNT and failures[pair] > 0
    ):
        raise throttle.refused("login-throttled", "Too many failed logins. Try again later.")
    user = await User.select().where(User.email == email).first().run()
    ok = await verify_password(user["password_hash"] if user else None, password)
    if not ok or not user["active"]:
        # the refusal must not roll back the count it rests on
        with db.outside_request():
            async with db.transaction():
                await throttle.note([account, address, pair])
                await record("auth.login_failed", user_id=user["id"] if user else None)
        raise _bad_credentials()
    async with db.transaction():
        token = await issue_token(user["id"], kind=kind, lifetime=absolute, user_agent=user_agent)
        await record("auth.login", user_id=user["id"], token_id=token.id)
    public = {k: user[k] for k in ("id", "email", "display_name", "active")}
    return token, public


async def revoke_token(token_id: int, user_id: int) -> None:
    """Revoke one of the user's own tokens (404 when it is not theirs)."""
    rows = (
        await AuthToken.update({AuthToken.revoked_at: utcnow()})
        .where(
            (AuthToken.id == token_id)
            & (AuthToken.user == user_id)
            & AuthToken.revoked_at.is_null()
        )
        .returning(AuthToken.id)
        .run()
    )
    if not rows:
        raise not_found("token")
    drop_cached("auth_token")


async def change_password(user_id: int, current: str, new: str, keep_token: int) -> None:
    """Change a password after re-authentication; every other token of the user is revoked."""
    user = await User.select(User.password_hash).where(User.id == user_id).first().run()
    if user is None or not await verify_password(user["password_hash"], current):
        raise invalid("current_password", "is wrong")
    check_password_rules(new, field="new_password")
    password_hash = await hash_password(new)
    async with db.transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id).run()
        await (
            AuthToken.update({AuthToken.revoked_at: utcnow()})
            .where(
                (AuthToken.user == user_id)
                & (AuthToken.id != keep_token)
                & AuthToken.revoked_at.is_null()
            )
            .run()
        )
        await record(
            "auth.password_changed", user_id=user_id, object_type="user", object_id=user_id
        )
    drop_cached("auth_token")


async def set_active(user_id: int, active: bool, by: int | None) -> None:
    """Enable or disable a user; disabling revokes every token at once."""
    async with db.transaction():
        await User.update({User.active: active}).where(User.id == user_id).run()
        if not active:
            await (
                AuthToken.update({AuthToken.revoked_at: utcnow()})
                .where((AuthToken.user == user_id) & AuthToken.revoked_at.is_null())
                .run()
            )
        await record(
            "user.enabled" if active else "user.disabled",
            user_id=by,
            object_type="user",
            object_id=user_id,
        )
    drop_cached("orga_user", "auth_token")


def check_role(role: str) -> None:
    """Refuse a role this deployment does not have (built-in or from ``[orga.roles]``; only
    the built-in ones outside a runtime, as in scripts that fill a database): 422 naming
    ``role``."""
    from core.context import runtime_or_none

    runtime = runtime_or_none()
    known = runtime.roles.grantable() if runtime is not None else list(BUILTIN_ROLES)
    if role not in known:
        raise invalid("role", N_("unknown role; one of %(roles)s"), roles=", ".join(known))


async def assign_role(user_id: int, org_id: int, role: str, by: int | None) -> bool:
    """Give ``user_id`` the ``role`` on ``org_id``; ``False`` when it was already held."""
    check_role(role)
    if not await User.exists().where(User.id == user_id).run():
        raise invalid("user_id", "no such user")
    async with db.transaction():
        exists = (
            await RoleAssignment.exists()
            .where(
                (RoleAssignment.user == user_id)
                & (RoleAssignment.org == org_id)
                & (RoleAssignment.role == role)
            )
            .run()
        )
        if exists:
            return False
        await RoleAssignment.insert(RoleAssignment(user=user_id, org=org_id, role=role)).run()
        await record(
            "role.granted",
            user_id=by,
            object_type="user",
            object_id=user_id,
            org_id=org_id,
            detail={"role": role},
        )
    drop_cached("role_assignment")
    return True


async def unassign_role(user_id: int, org_id: int, role: str, by: int | None) -> None:
    """Take a role away (404 when it was not held on that unit)."""
    async with db.transaction():
        rows = (
            await RoleAssignment.delete()
            .where(
                (RoleAssignment.user == user_id)
                & (RoleAssignment.org == org_id)
                & (RoleAssignment.role == role)
            )
            .returning(RoleAssignment.id)
            .run()
        )
        if not rows:
            raise not_found("role assignment")
        await record(
            "role.revoked",
            user_id=by,
            object_type="user",
            object_id=user_id,
            org_id=org_id,
            detail={"role": role},
        )
    drop_cached("role_assignment")


async def users_with_permission(permission: str, org_path: str) -> list[int]:
    """Active users holding ``permission`` on the unit at ``org_path`` (through a role there
    or on an ancestor), in id order."""
    from core.context import current_runtime

    roles = current_runtime().roles.holding(permission)
    if not roles:
        return []
    marks = ", ".join(["{}"] * len(roles))
    above, args = ancestors_sql("o.path", org_path)
    rows = await db.fetch(
        "SELECT DISTINCT ra.user_id FROM role_assignment ra "
        "JOIN org_unit o ON o.id = ra.org_id JOIN orga_user u ON u.id = ra.user_id "
        f"WHERE u.active AND ra.role IN ({marks}) AND {above} ORDER BY ra.user_id",
        *roles,
        *args,
    )
    return [row["user_id"] for row in rows]


async def set_display_name(user_id: int, name: str) -> None:
    """Change the user's display name (1 to 200 characters after trimming)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise invalid("display_name", "between 1 and 200 characters")
    await User.update({User.display_name: name}).where(User.id == user_id).run()
    drop_cached("orga_user")


async def user_tokens(user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The user's active sessions and API tokens, newest first (``limit`` of them)."""
    return await db.fetch(
        "SELECT id, kind, name, created_at, last_used_at, expires_at, user_agent FROM auth_token "
        "WHERE user_id = {} AND revoked_at IS NULL ORDER BY id DESC LIMIT {}",
        user_id,
        limit,
    )


async def sessions_page(user_id: int, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """A keyset page (oldest first) of the user's active sessions and API tokens."""
    query = AuthToken.select(
        AuthToken.id,
        AuthToken.kind,
        AuthToken.name,
        AuthToken.created_at,
        AuthToken.last_used_at,
        AuthToken.expires_at,
        AuthToken.user_agent,
    ).where((AuthToken.user == user_id) & AuthToken.revoked_at.is_null())
    return await keyset_page(query, AuthToken.id, limit, cursor)


async def user_profile(user_id: int) -> dict[str, Any]:
    """The user's id, e-mail address, display name and whether the account is active."""
    user = (
        await User.select(User.id, User.email, User.display_name, User.active)
        .where(User.id == user_id)
        .first()
        .run()
    )
    if user is None:
        raise not_found("user")
    return user
