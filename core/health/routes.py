"""``GET /api/health``."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get

from core import db

__all__ = ["health", "live", "ready"]


class ModuleInfo(msgspec.Struct):
    """An enabled module as shown by health."""

    name: str
    title: str
    version: str
    package: str


class Health(msgspec.Struct):
    """Health report. ``status`` is ``ok`` only when the database answers, is migrated and
    takes writes (``database`` is ``busy`` while another process holds SQLite's write
    lock)."""

    status: str
    database: str
    migrations_current: bool
    pending_migrations: list[str]
    modules: list[ModuleInfo]


@get("/api/health", tags=["system"], summary="Health of database, migrations and modules")
async def health(request: Request) -> Response[Health]:
    """Report database reachability, migration state and enabled modules (503 when not ok)."""
    runtime = request.app.state.orga
    modules = [
        ModuleInfo(m.info.name, m.info.title, m.info.version, m.package)
        for m in runtime.registry.modules.values()
    ]
    try:
        await db.fetch("SELECT 1 AS one")
        pending = await db.pending_migrations()
        database = "ok" if await db.writable() else "busy"
    except Exception as exc:  # the database is down or unreachable
        database, pending = f"error: {type(exc).__name__}", []
    ok = database == "ok" and not pending
    body = Health(
        status="ok" if ok else "degraded",
        database=database,
        migrations_current=database == "ok" and not pending,
        pending_migrations=pending,
        modules=modules,
    )
    return Response(body, status_code=200 if ok else 503)


@get("/api/health/live", tags=["system"], summary="Liveness: the process answers")
async def live() -> dict[str, str]:
    """200 while the process serves requests (no database access)."""
    return {"status": "ok"}


@get(
    "/api/health/ready",
    tags=["system"],
    summary="Readiness: database up, migrated and taking writes",
)
async def ready() -> Response[dict[str, str]]:
    """200 when the database answers, no migration is pending and a write could get its lock
    (on SQLite another process may hold it), else 503 (take the instance out of the load
    balancer)."""
    try:
        await db.fetch("SELECT 1 AS one")
        pending = await db.pending_migrations()
        writable = await db.writable()
    except Exception as exc:  # the database is down or unreachable
        return Response({"status": f"database error: {type(exc).__name__}"}, status_code=503)
    if pending:
        return Response({"status": "migrations pending"}, status_code=503)
    if not writable:
        busy = {"status": "database busy: writes wait for another process"}
        return Response(busy, status_code=503)
    return Response({"status": "ok"})
