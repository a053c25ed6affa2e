"""Guards and dependencies: authenticated → org unit visible → module enabled → permission.

Use ``guards=[requires("people.view")]`` on a handler under an org-scoped router, and take
``actor: Actor`` and ``org: OrgScope`` as handler parameters (they are app dependencies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

from core import db
from core.auth.actor import CONSOLE, Actor, resolve_actor
from core.cache import Caches
from core.context import set_acting
from core.orgs.paths import path_under_sql
from core.problems import N_, Problem, forbidden, not_found

__all__ = [
    "OrgScope",
    "authenticated",
    "current_actor",
    "needs_token",
    "org_guard",
    "provide_actor",
    "provide_org",
    "requires",
    "requires_any",
]


@dataclass(frozen=True)
class OrgScope:
    """The org unit a request is about, already checked to be visible to the actor."""

    id: int
    path: str


_ORG_SQL = f"""
SELECT o.path AS path,
  (SELECT m.enabled FROM org_module m JOIN org_unit a ON a.id = m.org_id
   WHERE m.module = {{}} AND {path_under_sql("o.path", "a.path")}
   ORDER BY length(a.path) DESC LIMIT 1) AS module_enabled
FROM org_unit o WHERE o.id = {{}}
"""


async def current_actor(connection: ASGIConnection) -> Actor | None:
    """The request's actor (resolved once and cached on the connection), or ``None``."""
    state = connection.state
    if "orga_actor" in state:
        return state["orga_actor"]
    actor = None
    scheme, _, secret = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        runtime = connection.app.state.orga
        idle = timedelta(minutes=runtime.settings.session_idle_minutes)
        actor = await resolve_actor(secret.strip(), runtime.roles, idle, runtime.caches)
        if actor is not None and actor.token_kind == CONSOLE:
            actor = None  # the console's cookie secret is no API credential
    state["orga_actor"] = actor
    set_acting(actor)
    return actor


def _unauthenticated() -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "A valid bearer token is required.",
        headers={"WWW-Authenticate": 'Bearer realm="orga"'},
    )


def _asks_for_token(guard: Any) -> Any:
    """Mark ``guard`` as one that answers 401 without a bearer token (read by
    :func:`needs_token`, so the OpenAPI document says which operations need one)."""
    guard.asks_for_token = True
    return guard


def needs_token(guards: Any) -> bool:
    """Whether one of ``guards`` answers 401 to a request without a valid bearer token."""
    return any(getattr(guard, "asks_for_token", False) for guard in guards)


@_asks_for_token
async def authenticated(connection: ASGIConnection, _: Any) -> None:
    """Guard: the request carries a valid, unexpired token of an active user."""
    if await current_actor(connection) is None:
        raise _unauthenticated()


async def _org_row(caches: Caches, org_id: int, module: str) -> dict[str, Any] | None:
    """The unit's path and whether ``module`` is on there, through the process's cache."""
    return await caches.get_or_load(
        "org_guard",
        ("org_unit", "org_module"),
        (org_id, module),
        lambda: db.fetch_one(_ORG_SQL, module, org_id),
    )


def org_guard(module: str | None = None):
    """Guard factory for routes under ``/api/orgs/{org_id}``.

    Checks the actor sees the unit (else 404, no existence leak) and, for a module's routes,
    that the module is enabled for the unit (else 404 ``module-disabled``).
    """

    @_asks_for_token
    async def guard(connection: ASGIConnection, _: Any) -> None:
        actor = await current_actor(connection)
        if actor is None:
            raise _unauthenticated()
        org_id = connection.path_params["org_id"]
        row = await _org_row(connection.app.state.orga.caches, org_id, module or "")
        if row is None or not actor.sees(row["path"]):
            raise not_found("org unit")
        if module is not None and not row["module_enabled"]:
            raise Problem(
                404,
                "module-disabled",
                f"The module '{module}' is not enabled for this org unit.",
                title=N_("Module disabled"),
            )
        connection.state["orga_org"] = OrgScope(id=org_id, path=row["path"])

    return guard


def requires(permission: str):
    """Guard factory: the actor holds ``permission`` on the request's org unit (else 403)."""

    async def guard(connection: ASGIConnection, _: Any) -> None:
        actor: Actor = connection.state["orga_actor"]
        org: OrgScope = connection.state["orga_org"]
        if not actor.can(permission, org.path):
            raise forbidden(permission)

    guard.permission = permission  # type: ignore[attr-defined]
    return guard


def requires_any(*permissions: str):
    """Guard factory: the actor holds at least one of ``permissions`` on the request's org
    unit (else 403 naming the first)."""

    async def guard(connection: ASGIConnection, _: Any) -> None:
        actor: Actor = connection.state["orga_actor"]
        org: OrgScope = connection.state["orga_org"]
        if not any(actor.can(permission, org.path) for permission in permissions):
            raise forbidden(permissions[0])

    return guard


async def provide_actor(request: Request) -> Actor:
    """Dependency ``actor``: the authenticated actor (guards ran before)."""
    actor = await current_actor(request)
    if actor is None:
        raise _unauthenticated()
    return actor


def provide_org(request: Request, actor: Actor) -> OrgScope:
    """Dependency ``org``: the org unit of an org-scoped route. It takes ``actor`` only so
    Litestar resolves the two one after the other: two independent dependencies cost a task
    group per request."""
    org = request.state.get("orga_org")
    if org is None:
        raise not_found("org unit")
    return org
