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

A write waits for each lock at most the busy timeout: when another process (a CLI import, a
script) holds SQLite's write lock longer, the write raises a 503 ``database-busy`` problem with
``Retry-After``, and whatever it had taken (the in-process lock, a pooled connection) is given
back, so the next write works as soon as the other process lets go. A connection goes back to
the pool only outside a transaction, and a statement whose caller is cancelled is waited for
before its connection is handed on. :meth:`PooledSQLiteEngine.writable` tells readiness whether
a write could get the lock now.

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
import contextlib
import math
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
from core.problems import Problem

__all__ = ["PooledSQLiteEngine"]

_READ_TYPES = frozenset({"select", "count", "exists", "objects", "generic", "table_exists"})
_INLINE_BUDGET_SECONDS = 0.005
_PROGRESS_STEPS = 2000
_PROBE_WAIT_MS = 200
"""How long :meth:`PooledSQLiteEngine.writable` waits for the write lock (a readiness probe
must answer within a second)."""


def _is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY: another connection holds the lock this statement needs."""
    return (
        isinstance(exc, sqlite3.OperationalError)
        and exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    )


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a future's outcome as seen (its caller was cancelled and does not want it)."""
    if not future.cancelled():
        future.exception()


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
        """Run one statement and return all rows as dicts (503 when the database is busy)."""
        raw = self.raw
        return await self.engine._statement(lambda: raw.execute(sql, args).fetchall())

    async def executemany(self, sql: str, rows: list[Any]) -> None:
        """Run one statement for many parameter rows in one thread hop (bulk inserts)."""
        raw = self.raw

        def run() -> None:
            # The cursor is closed here, on the thread that used it: dropped later on the event
            # loop's thread, it would reset the cached statement while the next executemany of
            # the same SQL runs it on a worker thread (SQLITE_MISUSE, seen under load).
            raw.executemany(sql, rows).close()

        await self.engine._statement(run)


class PooledTransaction(SQLiteTransaction):
    """A Piccolo transaction on a pooled connection; IMMEDIATE ones hold the write lock."""

    async def get_connection(self) -> _PooledConnection:
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        if self.transaction_type is not TransactionType.deferred:
            await engine._lock_writes()
        try:
            return await engine._acquire()
        except BaseException:
            if self.transaction_type is not TransactionType.deferred:
                engine._write_lock().release()
            raise

    async def __aenter__(self) -> PooledTransaction:
        if self._parent is not None:
            return self._parent
        await self.open()
        self.context = self.engine.current_transaction.set(self)
        return self

    async def begin(self) -> None:
        """BEGIN; an IMMEDIATE one marks the engine as waiting for SQLite's lock meanwhile."""
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        if self.transaction_type is TransactionType.deferred:
            await super().begin()
            return
        engine._waiting_since = time.monotonic()
        try:
            await super().begin()
        finally:
            engine._waiting_since = None

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
        """BEGIN without binding the transaction to the task's context (a request's unit).
        When BEGIN fails (503 after the busy timeout) the connection and the write lock are
        given back before the error goes on."""
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
        self._waiting_since: float | None = None

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

    def busy(self) -> Problem:
        """The 503 for a write that could not get the write lock within the busy timeout."""
        return Problem(
            503,
            "database-busy",
            "The database is busy with another write; try again shortly.",
            headers={"Retry-After": str(max(1, math.ceil(self.busy_timeout_ms / 1000)))},
        )

    async def _lock_writes(self) -> None:
        """Take the in-process write lock, waiting at most the busy timeout (else 503): a
        holder that does not let go must not queue every later write behind it for ever."""
        try:
            async with asyncio.timeout(self.busy_timeout_ms / 1000):
                await self._write_lock().acquire()
        except TimeoutError:
            raise self.busy() from None

    async def _acquire(self) -> _PooledConnection:
        self._bind_loop()
        assert self._available is not None
        await self._available.acquire()
        if self._idle:
            return self._idle.pop()
        try:
            return _PooledConnection(self, await self._in_thread(self._connect))
        except BaseException:
            self._available.release()
            raise

    def _release(self, conn: _PooledConnection) -> None:
        if conn.raw.in_transaction:  # a BEGIN that went through after its caller gave up
            conn.raw.execute("ROLLBACK")
        self._idle.append(conn)
        if self._available is not None:
            self._available.release()

    async def _in_thread(self, fn):
        """Run ``fn`` on a worker thread. When the caller is cancelled, a statement already
        running goes on to its end (SQLite cannot interrupt a busy wait) and is waited for
        before the cancellation goes on, so its connection is never handed on while in use."""
        job = self._executor.submit(fn)
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            if not job.done():  # running: cancelling the wrapper could not stop it
                waiter = asyncio.wrap_future(job)
                waiter.add_done_callback(_retrieved)
                while not waiter.done():
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait([waiter])
            raise

    async def _statement(self, fn):
        """:meth:`_in_thread` for a statement: SQLITE_BUSY becomes the 503 of :meth:`busy`."""
        try:
            return await self._in_thread(fn)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise self.busy() from exc
            raise

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
            await self._lock_writes()
            try:
                conn = await self._acquire()
                try:
                    return await conn.execute(sql, args)
                finally:
                    self._release(conn)
            finally:
                self._write_lock().release()
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

    async def writable(self) -> bool:
        """Whether a write could get SQLite's write lock now (readiness). With the in-process
        lock free, a spare connection tries ``BEGIN IMMEDIATE`` (waiting at most
        :data:`_PROBE_WAIT_MS`) and rolls back. While a write of this process holds the lock,
        the answer is no only when that write has been waiting in BEGIN for longer than the
        probe would (another process holds SQLite's lock); a transaction of this process that
        writes is no reason to take the server out of rotation."""
        lock = self._write_lock()
        if not lock.locked():
            try:
                async with asyncio.timeout(_PROBE_WAIT_MS / 1000):
                    await lock.acquire()
            except TimeoutError:  # a write of this process came first: judged below
                pass
            else:
                try:
                    conn = await self._acquire()
                    try:
                        return await self._in_thread(lambda: self._probe(conn.raw))
                    finally:
                        self._release(conn)
                finally:
                    lock.release()
        since = self._waiting_since
        return since is None or time.monotonic() - since < _PROBE_WAIT_MS / 1000

    def _probe(self, raw: sqlite3.Connection) -> bool:
        raw.execute(f"PRAGMA busy_timeout = {_PROBE_WAIT_MS}")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                return False
            raise
        else:
            raw.execute("ROLLBACK")
            return True
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")

    def unit_transaction(self) -> PooledTransaction:
        """The IMMEDIATE transaction a request's unit of work opens at its first write."""
        return PooledTransaction(engine=self, transaction_type=TransactionType.immediate)
