"""A Piccolo SQLite engine that reuses connections.

Stock ``SQLiteEngine`` opens a new aiosqlite connection (and thread) for every query outside a
transaction, which caps point-selects at about a thousand a second. This engine keeps:

* one *inline* read connection used on the event-loop thread for reads outside a transaction.
  A progress handler gives each inline read a small time budget; a read that exceeds it is
  interrupted and re-run on the pool, so a long report never stalls the loop for long;
* a pool of connections served by worker threads for writes, long reads and transactions
  (one thread hop per statement);
* an in-process write lock, so write transactions queue on an ``asyncio.Lock`` instead of
  spinning on SQLite's busy timeout (which still guards against other processes).

Inside an HTTP request the statements follow the request's unit of work (``core._unit``): reads
before its first write run as above, the first write opens one IMMEDIATE transaction for the
rest of the request.

All connections run in WAL mode with ``synchronous=NORMAL``, foreign keys on, ``secure_delete``
(deleted content is overwritten with zeros, so an erased person leaves nothing in free pages)
and a busy timeout. Each registers ``orga_lower(text)``, Python's ``str.lower``, because
SQLite's ``lower`` folds ASCII letters only (segments' text match needs "Ü" = "ü").
Write transactions are ``BEGIN IMMEDIATE`` by default.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
    dict_factory,
)
from piccolo.querystring import QueryString

from core import _unit

__all__ = ["PooledSQLiteEngine"]

_READ_TYPES = frozenset({"select", "count", "exists", "objects", "generic", "table_exists"})
_INLINE_BUDGET_SECONDS = 0.005
_PROGRESS_STEPS = 2000


def _lower(value: Any) -> Any:
    """``orga_lower``: Unicode lower case of text; other values (NULL, numbers) unchanged."""
    return value.lower() if isinstance(value, str) else value


class _PooledConnection:
    """A sqlite3 connection whose statements run on the engine's worker threads."""

    __slots__ = ("engine", "raw")

    def __init__(self, engine: PooledSQLiteEngine, raw: sqlite3.Connection) -> None:
        self.engine = engine
        self.raw = raw

    async def execute(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        """Run one statement and return all rows as dicts."""
        raw = self.raw
        return await self.engine._in_thread(lambda: raw.execute(sql, args).fetchall())

    async def executemany(self, sql: str, rows: list[Any]) -> None:
        """Run one statement for many parameter rows in one thread hop (bulk inserts)."""
        raw = self.raw
        await self.engine._in_thread(lambda: raw.executemany(sql, rows))


class PooledTransaction(SQLiteTransaction):
    """A Piccolo transaction on a pooled connection; IMMEDIATE ones hold the write lock."""

    async def get_connection(self) -> _PooledConnection:
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        if self.transaction_type is not TransactionType.deferred:
            await engine._write_lock().acquire()
        try:
            return await engine._acquire()
        except BaseException:
            if self.transaction_type is not TransactionType.deferred:
                engine._write_lock().release()
            raise

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self._give_back()
            self.engine.current_transaction.reset(self.context)
        return exception is None

    def _give_back(self) -> None:
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        engine._release(self.connection)
        if self.transaction_type is not TransactionType.deferred:
            engine._write_lock().release()

    async def open(self) -> None:
        """BEGIN without binding the transaction to the task's context (a request's unit)."""
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            self._give_back()
            raise

    async def close(self, commit: bool) -> None:
        """COMMIT (or ROLLBACK) a transaction from :meth:`open`; the connection and the write
        lock are given back whatever happens, a failed COMMIT is rolled back."""
        try:
            if commit:
                try:
                    await self.commit()
                except BaseException:
                    await self.rollback()
                    raise
            else:
                await self.rollback()
        finally:
            self._give_back()


class PooledSQLiteEngine(SQLiteEngine):
    """SQLite engine with connection reuse; see the module docstring."""

    def __init__(self, path: str, pool_size: int = 4, busy_timeout_ms: int = 5000) -> None:
        super().__init__(path=path, timeout=busy_timeout_ms / 1000, check_same_thread=False)
        self.pool_size = pool_size
        self.busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(pool_size, thread_name_prefix="orga-sqlite")
        self._idle: list[_PooledConnection] = []
        self._all: list[sqlite3.Connection] = []
        self._inline: sqlite3.Connection | None = None
        self._deadline = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._available: asyncio.Semaphore | None = None

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(**self.connection_kwargs)
        conn.row_factory = dict_factory
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")  # deleted rows are zeroed, not left in free pages
        conn.create_function("orga_lower", 1, _lower, deterministic=True)
        self._all.append(conn)
        return conn

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._lock = asyncio.Lock()
            self._available = asyncio.Semaphore(self.pool_size)

    def _write_lock(self) -> asyncio.Lock:
        self._bind_loop()
        assert self._lock is not None
        return self._lock

    async def _acquire(self) -> _PooledConnection:
        self._bind_loop()
        assert self._available is not None
        await self._available.acquire()
        if self._idle:
            return self._idle.pop()
        return _PooledConnection(self, await self._in_thread(self._connect))

    def _release(self, conn: _PooledConnection) -> None:
        self._idle.append(conn)
        if self._available is not None:
            self._available.release()

    async def _in_thread(self, fn):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def get_connection(self) -> _PooledConnection:  # type: ignore[override]
        """Piccolo calls this for transactions; we hand out a pooled connection."""
        return await self._acquire()

    def close(self) -> None:
        """Close every connection and stop the worker threads."""
        self._executor.shutdown(wait=True)
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._idle.clear()
        self._inline = None

    # -- running statements --------------------------------------------------------------------

    def _over_budget(self) -> int:
        return 1 if time.perf_counter() > self._deadline else 0

    def _inline_read(self, sql: str, args: Any) -> list[dict[str, Any]] | None:
        """Run a read on the loop thread; ``None`` when it ran out of budget or hit a lock."""
        if self._inline is None:
            self._inline = self._connect()
            self._inline.execute("PRAGMA busy_timeout = 0")
            self._inline.set_progress_handler(self._over_budget, _PROGRESS_STEPS)
        self._deadline = time.perf_counter() + _INLINE_BUDGET_SECONDS
        try:
            return self._inline.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "interrupted" in text or "locked" in text or "busy" in text:
                return None
            raise

    async def _run_pooled(self, sql: str, args: Any, write: bool) -> list[dict[str, Any]]:
        if write:
            async with self._write_lock():
                conn = await self._acquire()
                try:
                    return await conn.execute(sql, args)
                finally:
                    self._release(conn)
        conn = await self._acquire()
        try:
            return await conn.execute(sql, args)
        finally:
            self._release(conn)

    async def _run_in_existing_connection(
        self, connection, query, args=None, query_type="generic", table=None
    ):
        return await connection.execute(query, args or [])

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False):
        """Piccolo's entry point for every query."""
        query, args = querystring.compile_string(engine_type=self.engine_type)
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=str(querystring))
        transaction = self.current_transaction.get() or _unit.joined()
        if transaction is not None:
            return await transaction.connection.execute(query, args)
        if querystring.query_type in _READ_TYPES and query.lstrip()[:6].upper() == "SELECT":
            rows = self._inline_read(query, args)
            if rows is not None:
                return rows
            return await self._run_pooled(query, args, write=False)
        return await self._run_write(query, args)

    async def _run_write(self, sql: str, args: Any) -> list[dict[str, Any]]:
        """A statement outside a transaction: the first write of a request begins the request's
        transaction, anything else runs on its own (``WITH`` reads too, as before)."""
        unit = _unit.writing_unit() if _unit.writes(sql) else None
        if unit is not None:
            return await unit.first_write(lambda t: t.connection.execute(sql, args))
        return await self._run_pooled(sql, args, write=True)

    async def run_ddl(self, ddl: str, in_pool: bool = False):
        """DDL runs like any write (inside the current transaction if there is one)."""
        transaction = self.current_transaction.get() or _unit.joined()
        if transaction is not None:
            return await transaction.connection.execute(ddl)
        return await self._run_write(ddl, ())

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> Any:
        """A transaction on a pooled connection (IMMEDIATE unless asked otherwise); inside a
        request, a block of the request's transaction (see ``core._unit``)."""
        unit = _unit.writing_unit()
        if unit is not None and self.current_transaction.get() is None:
            return unit.block()
        return PooledTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    def unit_transaction(self) -> PooledTransaction:
        """The IMMEDIATE transaction a request's unit of work opens at its first write."""
        return PooledTransaction(engine=self, transaction_type=TransactionType.immediate)
