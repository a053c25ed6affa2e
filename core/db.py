"""Database engine from a URL, table binding, transactions, raw queries and migrations.

Piccolo keeps the engine on each table class and finds migrations through ``PICCOLO_CONF``;
:func:`activate` points both at the engine and apps of one running orga (the CLI, the server
or a test). Service code uses :func:`transaction`, :func:`fetch` and :func:`execute`, which work
the same on SQLite and PostgreSQL and join the current transaction when there is one.

Inside an HTTP request they also join the request's unit of work (``core._unit``): everything
a request writes commits together when it succeeds and is rolled back when it is refused.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from string import Formatter
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig, AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from core import _unit
from core._postgres import UnitPostgresEngine
from core._sqlite import PooledSQLiteEngine

__all__ = [
    "REQUEST_TRANSACTION",
    "activate",
    "after_commit",
    "bulk_insert",
    "checkpoint",
    "close_engine",
    "create_engine",
    "engine",
    "execute",
    "fetch",
    "fetch_one",
    "is_postgres",
    "json_value",
    "migrate",
    "on_success",
    "open_engine",
    "outside_request",
    "pending_migrations",
    "postgres_params",
    "transaction",
    "unit_of_work",
    "writable",
]

REQUEST_TRANSACTION = "request_transaction"
"""Route option: ``opt={REQUEST_TRANSACTION: False}`` runs a handler without the request's
unit of work. Only for hot paths whose writes are one statement or one transaction each and
that refuse before writing (the caller's ``next``); see docs/design.md."""

on_success = _unit.on_success
outside_request = _unit.outside_request
unit_of_work = _unit.open_unit


def postgres_params(url: str) -> dict[str, Any]:
    """host, port, user, password and database of a ``postgresql://`` URL.

    ``postgresql://user:pass@/db?host=/run/postgresql`` (libpq's spelling) names the folder of
    the server's Unix socket: on one machine it spares the kernel's TCP work per query."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    return {
        "host": socket_dir or parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/"),
    }


def create_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """Build a Piccolo engine for ``sqlite:///path`` or a ``postgresql://`` URL (see
    :func:`postgres_params`). ``busy_timeout_ms`` (SQLite): how long a write waits for the
    write lock before it fails with a 503 ``database-busy`` problem."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        return PooledSQLiteEngine(path=path, busy_timeout_ms=busy_timeout_ms)
    return UnitPostgresEngine(config=postgres_params(url))


async def _keep_session(connection: Any) -> None:
    """Pool reset hook: nothing to undo (see :func:`open_engine`)."""


async def open_engine(db: Engine, pool_size: int = 20) -> None:
    """Open the connection pool (PostgreSQL); SQLite connections open lazily.

    asyncpg resets a connection on every release with a round trip (``RESET ALL``, ``UNLISTEN
    *``, …), and Piccolo takes a connection per query. orga never changes session state, so the
    reset hook is empty; an open transaction is still rolled back by asyncpg itself.
    """
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=pool_size, max_size=pool_size, reset=_keep_session)


async def close_engine(db: Engine) -> None:
    """Close the pool and every connection."""
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        db.close()


def activate(db: Engine, apps: list[str]) -> list[AppConfig]:
    """Make ``db`` the engine of every table of ``apps`` (dotted piccolo_app paths).

    Also points ``PICCOLO_CONF`` at :mod:`core.piccolo_conf` so Piccolo's migration commands see
    exactly these apps. Returns the app configs in migration order.
    """
    os.environ["PICCOLO_CONF"] = "core.piccolo_conf"
    _active.engine, _active.apps = db, AppRegistry(apps=apps)
    configs = _active.apps.app_configs.values()
    Migration._meta.db = db
    for config in configs:
        for table in config.table_classes:
            table._meta.db = db
    return BaseMigrationManager().get_app_configs()


class _Active:
    """The engine and Piccolo apps :func:`activate` made active (``core.piccolo_conf`` hands
    them to Piccolo)."""

    engine: Engine | None = None
    apps: AppRegistry | None = None


_active = _Active()


def engine() -> Engine:
    """The active engine."""
    if _active.engine is None:
        raise RuntimeError("no database: activate an engine first (core.runtime.build_runtime)")
    return _active.engine


def app_registry() -> AppRegistry | None:
    """The Piccolo apps of the active engine, or ``None`` before :func:`activate`."""
    return _active.apps


def is_postgres() -> bool:
    """True when the active engine is PostgreSQL."""
    return isinstance(engine(), PostgresEngine)


async def writable() -> bool:
    """Whether a write could get its lock now: on SQLite, ``False`` while another process
    holds the database's one write lock (see ``PooledSQLiteEngine.writable``); always
    ``True`` on PostgreSQL, which locks rows, not the database."""
    engine_ = engine()
    return await engine_.writable() if isinstance(engine_, PooledSQLiteEngine) else True


_after_commit: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "orga_after_commit", default=None
)


class _Transaction:
    """The engine's transaction, plus the callbacks :func:`after_commit` registered in it."""

    __slots__ = ("callbacks", "inner", "token")

    def __init__(self) -> None:
        self.inner = engine().transaction()
        self.callbacks: list[Callable[[], Awaitable[None]]] = []
        self.token: Any = None

    async def __aenter__(self) -> Any:
        if _after_commit.get() is None:  # the outermost transaction collects the callbacks
            self.token = _after_commit.set(self.callbacks)
        try:
            return await self.inner.__aenter__()
        except BaseException:
            self._forget()
            raise

    async def __aexit__(self, kind: Any, exception: Any, traceback: Any) -> bool:
        try:
            result = await self.inner.__aexit__(kind, exception, traceback)
        finally:
            self._forget()
        if exception is None:
            for callback in self.callbacks:
                result_of = callback()
                if inspect.isawaitable(result_of):
                    await result_of
        return result

    def _forget(self) -> None:
        if self.token is not None:
            _after_commit.reset(self.token)
            self.token = None


def transaction() -> _Transaction:
    """A write transaction (IMMEDIATE on SQLite); nested calls join the outer one. Inside a
    request it is part of the request's transaction and still all or nothing on its own."""
    return _Transaction()


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` (a plain or an ``async`` function) once the writes around it are
    committed, never if they are rolled back: in a request, when the request's transaction
    commits (``core._unit``); elsewhere when the outermost :func:`transaction` commits; with
    neither, now. For work outside the database that must not happen for a write that is
    undone: deleting files, dropping caches, waking a worker."""
    if _unit.writing_unit() is not None:
        _unit.after_commit(callback)
        return
    pending = _after_commit.get()
    if pending is None:
        _unit.run_callback(callback)
    else:
        pending.append(callback)


def _current_transaction() -> Any:
    return engine().current_transaction.get() or _unit.joined()


def json_value(value: Any) -> Any:
    """A JSON column's value as Python data (SQLite and asyncpg return JSON as text)."""
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


@functools.lru_cache(maxsize=4096)
def _numbered(sql: str) -> str:
    """``{}`` placeholders as PostgreSQL's ``$1, $2, …`` (``{{``/``}}`` are literal braces)."""
    parts: list[str] = []
    count = 0
    for literal, field, _, _ in Formatter().parse(sql):
        parts.append(literal)
        if field is not None:
            count += 1
            parts.append(f"${count}")
    return "".join(parts)


async def _postgres_fetch(engine_: UnitPostgresEngine, sql: str, args: Sequence[Any]) -> list[Any]:
    """Raw SQL straight on asyncpg (the current transaction's connection, else one from the
    pool). Skips Piccolo's query building, which costs as much as the round trip itself."""
    return await engine_.fetch_numbered(_numbered(sql), args, _unit.writes(sql))


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run raw SQL with ``{}`` placeholders and return rows as dicts."""
    engine_ = engine()
    if isinstance(engine_, UnitPostgresEngine):
        return [dict(row) for row in await _postgres_fetch(engine_, sql, args)]
    return engine_.transform_response_to_dicts(
        await engine_.run_querystring(QueryString(sql, *args))
    )


async def fetch_one(sql: str, *args: Any) -> dict[str, Any] | None:
    """Like :func:`fetch` but return the first row or ``None``."""
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def execute(sql: str, *args: Any) -> None:
    """Run a raw statement with ``{}`` placeholders."""
    engine_ = engine()
    if isinstance(engine_, UnitPostgresEngine):
        await _postgres_fetch(engine_, sql, args)
        return
    await engine_.run_querystring(QueryString(sql, *args))


async def bulk_insert(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows fast, inside the current transaction (one is opened if needed).

    PostgreSQL uses ``COPY`` (asyncpg's binary copy, so values must have the column's Python
    type), SQLite one ``executemany`` on the transaction's connection. Query building is
    skipped entirely; callers pass plain tuples in ``columns`` order.
    """
    if not rows:
        return
    current = _current_transaction()
    if current is None:
        async with transaction():
            await bulk_insert(table, columns, rows)
        return
    if is_postgres():
        await current.connection.copy_records_to_table(table, records=rows, columns=list(columns))
    else:
        marks = ", ".join(["?"] * len(columns))
        await current.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )


async def checkpoint() -> bool:
    """SQLite: copy the write-ahead log into the database file and truncate it, so rows deleted
    before (zeroed there by ``secure_delete``) leave no older copy in the log. Returns
    ``False`` when a reader in another process kept part of the log; nothing on PostgreSQL."""
    if is_postgres():
        return True
    row = await fetch_one("PRAGMA wal_checkpoint(TRUNCATE)")
    return row is not None and not row["busy"]


async def migrate(quiet: bool = True) -> None:
    """Run every pending migration of the active apps, in dependency order.

    Raises:
        RuntimeError: when Piccolo reports a failed migration.
    """
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{sink.getvalue()}")


async def pending_migrations() -> list[str]:
    """Ids of migrations on disk that have not run yet (empty when the schema is current)."""
    manager = BaseMigrationManager()
    if not await Migration.table_exists().run():
        ran: set[tuple[str, str]] = set()
    else:
        rows = await Migration.select(Migration.app_name, Migration.name).run()
        ran = {(row["app_name"], row["name"]) for row in rows}
    pending = []
    for config in manager.get_app_configs():
        ids = _migration_ids(manager, config.resolved_migrations_folder_path)
        pending += [mid for mid in ids if (config.app_name, mid) not in ran]
    return sorted(pending)


_ids_by_folder: dict[str, tuple[str, ...]] = {}


def _migration_ids(manager: BaseMigrationManager, folder: str) -> tuple[str, ...]:
    """Migration ids in a folder, read once per process (files do not change while running)."""
    if folder not in _ids_by_folder:
        _ids_by_folder[folder] = tuple(manager.get_migration_modules(folder))
    return _ids_by_folder[folder]


@contextlib.asynccontextmanager
async def lifespan_engine(db: Engine) -> AsyncIterator[None]:
    """Open the engine for the duration of the block."""
    await open_engine(db)
    try:
        yield
    finally:
        await close_engine(db)
