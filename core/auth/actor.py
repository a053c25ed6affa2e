"""Who is calling and what they may do where: the one permission check.

An :class:`Actor` is resolved once per request from the bearer token with ONE query (token,
user and all role grants joined). Checking "may U do P on unit O" then needs only the unit's
path, which the org guard loads together with the module switch in one more query.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import db
from core.auth.roles import Roles
from core.cache import MISSING, Caches
from core.orgs.paths import is_under
from core.problems import Problem
from core.tables import utcnow

__all__ = [
    "ACTOR_TABLES",
    "Actor",
    "Grant",
    "hash_token",
    "load_actor",
    "resolve_actor",
]

ACTOR_TABLES = ("auth_token", "orga_user", "role_assignment", "org_unit")

LAST_USED_RESOLUTION = timedelta(seconds=60)
SESSION = "session"
CONSOLE = "console"  # a console login: its secret lives in a cookie, never an API credential
_INTERACTIVE = (SESSION, CONSOLE)


def hash_token(secret: str) -> str:
    """SHA-256 hex digest of a token secret (what the database stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Grant:
    """A role held on a unit (and so on its subtree)."""

    org_id: int
    path: str
    role: str


@dataclass
class Actor:
    """The authenticated caller: a user through a session or an API token."""

    user_id: int
    token_id: int
    token_kind: str
    grants: list[Grant]
    roles: Roles
    token_org_path: str | None = None
    token_permissions: frozenset[str] | None = None
    valid_until: datetime | None = None
    _cache: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)

    def _grant_allows(self, grant: Grant, permission: str) -> bool:
        if permission not in self.roles.get(grant.role, ()):
            return False
        return self.token_permissions is None or permission in self.token_permissions

    def can(self, permission: str, path: str) -> bool:
        """True when the actor holds ``permission`` on the unit with materialized ``path``."""
        key = (permission, path)
        if key not in self._cache:
            in_token_scope = self.token_org_path is None or is_under(path, self.token_org_path)
            self._cache[key] = in_token_scope and any(
                is_under(path, g.path) and self._grant_allows(g, permission) for g in self.grants
            )
        return self._cache[key]

    def sees(self, path: str) -> bool:
        """True when the actor holds any role on the unit or an ancestor (within token scope)."""
        if self.token_org_path is not None and not is_under(path, self.token_org_path):
            return False
        return any(is_under(path, g.path) for g in self.grants)

    def scopes(self, permission: str | None = None) -> list[str]:
        """Root paths of the subtrees where ``permission`` holds (any role when ``None``).

        No returned path lies inside another; an API token narrows them to its own unit.
        """
        roots = set()
        for grant in self.grants:
            if permission is not None and not self._grant_allows(grant, permission):
                continue
            root = grant.path
            if self.token_org_path is not None:
                if is_under(self.token_org_path, root):
                    root = self.token_org_path
                elif not is_under(root, self.token_org_path):
                    continue
            roots.add(root)
        return sorted(r for r in roots if not any(r != o and is_under(r, o) for o in roots))

    def require_session(self) -> None:
        """Refuse API tokens for actions that need an interactive login (403)."""
        if self.token_kind not in _INTERACTIVE:
            raise Problem(403, "session-required", "Only an interactive session can do this.")

    def role_rank_at(self, path: str) -> int:
        """The highest rank of the roles the actor holds on ``path`` (0 when none)."""
        ranks = (self.roles.rank(g.role) for g in self.grants if is_under(path, g.path))
        return max(ranks, default=0)


_ACTOR_SQL = """
SELECT t.id AS token_id, t.token_hash AS token_hash, t.kind AS kind, t.user_id AS user_id,
       t.created_at AS created_at,
       t.last_used_at AS last_used_at, t.expires_at AS expires_at, t.revoked_at AS revoked_at,
       t.permissions AS permissions, tor.path AS token_org_path, u.active AS active,
       ra.role AS role, g.id AS grant_org_id, g.path AS grant_path
FROM auth_token t
JOIN orga_user u ON u.id = t.user_id
LEFT JOIN org_unit tor ON tor.id = t.org_id
LEFT JOIN role_assignment ra ON ra.user_id = t.user_id
LEFT JOIN org_unit g ON g.id = ra.org_id
WHERE t.token_hash = {}
"""


def _expired(row: dict, idle: timedelta, now: datetime) -> bool:
    if row["revoked_at"] is not None or not row["active"]:
        return True
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return True
    return row["kind"] in _INTERACTIVE and row["last_used_at"] + idle <= now


async def load_actor(secret: str, roles: Roles, idle: timedelta) -> Actor | None:
    """Resolve a bearer secret to an :class:`Actor`, or ``None`` when invalid or expired.

    Touches ``last_used_at`` at most once a minute so idle expiry works without a write per
    request.
    """
    digest = hash_token(secret)
    rows = await db.fetch(_ACTOR_SQL, digest)
    if not rows or not hmac.compare_digest(rows[0]["token_hash"], digest):
        return None
    first = rows[0]
    now = utcnow()
    if _expired(first, idle, now):
        return None
    last_used = first["last_used_at"]
    if now - last_used > LAST_USED_RESOLUTION:
        with db.outside_request():  # bookkeeping, not part of what the request changes
            await db.execute(
                "UPDATE auth_token SET last_used_at = {} WHERE id = {}", now, first["token_id"]
            )
        last_used = now
    ends = [first["expires_at"]] if first["expires_at"] is not None else []
    if first["kind"] in _INTERACTIVE:
        ends.append(last_used + idle)
    grants = [
        Grant(org_id=r["grant_org_id"], path=r["grant_path"], role=r["role"])
        for r in rows
        if r["role"] is not None
    ]
    permissions = db.json_value(first["permissions"])
    return Actor(
        user_id=first["user_id"],
        token_id=first["token_id"],
        token_kind=first["kind"],
        grants=grants,
        roles=roles,
        token_org_path=first["token_org_path"] if first["kind"] == "api" else None,
        token_permissions=frozenset(permissions) if first["kind"] == "api" else None,
        valid_until=min(ends, default=None),
    )


async def resolve_actor(secret: str, roles: Roles, idle: timedelta, caches: Caches) -> Actor | None:
    """:func:`load_actor` through the process's actor cache (see :mod:`core.cache`): a token
    seen in the last seconds costs no query; a revoked token, a changed role or a deactivated
    user drops the cache in every process. Invalid tokens are never cached."""
    digest = hash_token(secret)
    cache = caches.cache("actor", ACTOR_TABLES)
    cached = cache.get(digest)
    if cached is not MISSING and (cached.valid_until is None or cached.valid_until > utcnow()):
        return cached
    generation = cache.generation
    actor = await load_actor(secret, roles, idle)
    if actor is not None:
        cache.put(digest, actor, generation)
    return actor
