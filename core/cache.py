"""Per-process caches of rarely changing rows, dropped in every process when those rows change.

A request on a hot path (a caller asking for the next person) would otherwise spend most of
its round trips re-reading the same token, unit and assignment rows. On PostgreSQL a
statement-level trigger on each watched table sends ``NOTIFY orga_cache, '<table>'`` when the
table changes (delivered at commit, whoever wrote: a server, the CLI or an operator's SQL);
each server process LISTENs on one dedicated connection and drops every cache that watches
that table. Writes made through core's services also drop the caches of their own process at
once. While the listening connection is down the caches are off, and an entry lives at most
``ttl`` seconds. SQLite has no cross-process signal: there the caches stay off and every
lookup reads the database, which costs no round trip in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from core import db

__all__ = [
    "CHANNEL",
    "MISSING",
    "Caches",
    "TableCache",
    "cached",
    "drop_cached",
    "notify_changes",
]

CHANNEL = "orga_cache"
MISSING: Any = object()
# entries live between (1 - TTL_SPREAD) * ttl and ttl: entries filled together (every caller's
# token and roster entry in the first second of a shift) expire spread out, not in one burst
TTL_SPREAD = 0.25
_log = logging.getLogger("orga.cache")


class TableCache:
    """A bounded, expiring map whose entries depend on some tables' rows (each entry lives
    ``ttl`` seconds less up to :data:`TTL_SPREAD` of it, at random)."""

    def __init__(self, owner: Caches, name: str, tables: frozenset[str], ttl: float, size: int):
        self.owner = owner
        self.name = name
        self.tables = tables
        self.ttl = ttl
        self.size = size
        self.generation = 0
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The cached value, or :data:`MISSING` (always while the caches are off)."""
        if not self.owner.enabled:
            return MISSING
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return MISSING
        return entry[1]

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        """Keep ``value`` unless the cache was dropped since ``generation`` was read (the value
        may predate the change that dropped it)."""
        if not self.owner.enabled or generation != self.generation:
            return
        lifetime = self.ttl * (1 - TTL_SPREAD * random.random())  # noqa: S311 - jitter
        self._entries[key] = (time.monotonic() + lifetime, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry; values being loaded right now will not be kept."""
        self.generation += 1
        self._entries.clear()


class Caches:
    """The caches of one running app and the connection that listens for changes."""

    def __init__(self, enabled: bool = True) -> None:
        self.wanted = enabled
        self.enabled = False
        self._caches: dict[str, TableCache] = {}
        self._connection: Any = None
        self._engine: PostgresEngine | None = None
        self._reconnect: asyncio.Task | None = None

    def cache(
        self, name: str, tables: tuple[str, ...], ttl: float = 30.0, size: int = 10_000
    ) -> TableCache:
        """The cache ``name`` (created on first use) whose entries depend on ``tables``."""
        found = self._caches.get(name)
        if found is None:
            found = self._caches[name] = TableCache(self, name, frozenset(tables), ttl, size)
        return found

    def drop(self, *tables: str) -> None:
        """Drop every cache that depends on one of ``tables`` (in this process)."""
        for cache in self._caches.values():
            if cache.tables.intersection(tables):
                cache.clear()

    async def get_or_load(
        self, name: str, tables: tuple[str, ...], key: Hashable, load: Callable[[], Awaitable[Any]]
    ) -> Any:
        """The cached value of ``key`` in cache ``name``, else ``await load()`` (kept unless
        the cache was dropped while it loaded)."""
        cache = self.cache(name, tables)
        value = cache.get(key)
        if value is MISSING:
            generation = cache.generation
            value = await load()
            cache.put(key, value, generation)
        return value

    def _drop_all(self) -> None:
        for cache in self._caches.values():
            cache.clear()

    async def start(self, engine: Engine) -> None:
        """Listen for changes (PostgreSQL only, when enabled); the caches work from now on."""
        if not self.wanted or not isinstance(engine, PostgresEngine):
            return
        self._engine = engine
        try:
            await self._listen()
        except Exception as exc:  # the app still serves, uncached, and keeps trying
            _log.warning("cache listener: not connected (%s); caches off until it is", exc)
            self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _listen(self) -> None:
        import asyncpg

        assert self._engine is not None
        connection = await asyncpg.connect(**self._engine.config)
        await connection.add_listener(CHANNEL, self._notified)
        connection.add_termination_listener(self._lost)
        self._connection = connection
        self._drop_all()
        self.enabled = True

    def _notified(self, _connection: Any, _pid: int, _channel: str, table: str) -> None:
        self.drop(table)

    def _lost(self, _connection: Any) -> None:
        """The listening connection broke: caches off until it is back."""
        self.enabled = False
        self._drop_all()
        self._connection = None
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        while self._connection is None and self._engine is not None:
            try:
                await self._listen()
            except Exception as exc:  # any failure: try again in a second
                _log.warning("cache listener: reconnecting after %s", exc)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        """Stop listening; the caches are off afterwards."""
        self.enabled = False
        self._engine = None
        if self._reconnect is not None:
            self._reconnect.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                await connection.close()
        self._drop_all()


async def cached(
    name: str, tables: tuple[str, ...], key: Hashable, load: Callable[[], Awaitable[Any]]
) -> Any:
    """:meth:`Caches.get_or_load` on the current runtime's caches (for modules)."""
    from core.context import current_runtime

    return await current_runtime().caches.get_or_load(name, tables, key, load)


def drop_cached(*tables: str) -> None:
    """After a write to ``tables``: drop the dependent caches of this process at once, and
    inside a request once more when its transaction commits (a value loaded in between predates
    the commit). Other processes hear of it from the table's trigger."""
    from core.context import runtime_or_none

    runtime = runtime_or_none()
    if runtime is not None:
        runtime.caches.drop(*tables)
        db.after_commit(lambda: runtime.caches.drop(*tables))


_FUNCTION = (
    "CREATE OR REPLACE FUNCTION orga_notify_change() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM pg_notify('" + CHANNEL + "', TG_TABLE_NAME); RETURN NULL; END $$"
)


def notify_changes(
    manager: MigrationManager, table: str, *, update_of: tuple[str, ...] = (), inserts: bool = True
) -> None:
    """Migration step: on PostgreSQL, NOTIFY the caches whenever rows of ``table`` change.

    A row trigger (PostgreSQL sends one notification per transaction however many rows
    change), plus a statement trigger for TRUNCATE. ``update_of`` limits updates to those
    columns (e.g. not a token's ``last_used_at``); ``inserts=False`` ignores new rows.
    """
    events = ["INSERT"] if inserts else []
    events.append("UPDATE OF " + ", ".join(update_of) if update_of else "UPDATE")
    events.append("DELETE")

    async def run() -> None:
        if not db.is_postgres():
            return
        await db.execute(_FUNCTION)
        for name, when, each in (
            (f"orga_notify_{table}", " OR ".join(events), "ROW"),
            (f"orga_notify_{table}_truncate", "TRUNCATE", "STATEMENT"),
        ):
            await db.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            await db.execute(
                f"CREATE TRIGGER {name} AFTER {when} ON {table} "
                f"FOR EACH {each} EXECUTE FUNCTION orga_notify_change()"
            )

    manager.add_raw(run)
