"""The unit of work of one HTTP request: all its writes in one transaction (see ``core.db``).

A request's unit begins its transaction lazily, at the first statement that writes (or the
first ``transaction()`` block): reads before it run outside any transaction, exactly as they
would without a unit (inline on SQLite, no write lock held). From then on every statement of
the request runs in that transaction, and the request's end commits it (2xx/3xx) or rolls it
back (4xx/5xx, or an exception). A ``transaction()`` block inside the unit keeps its own
all-or-nothing meaning: the block that begins the transaction rolls all of it back when it
fails; a later top-level block runs under a SAVEPOINT. Blocks nested in a block join it, as
they always did.

Both engines (``core._sqlite``, ``core._postgres``) ask this module which transaction a
statement belongs to. The unit belongs to the task that serves the request: a task started
from it (Litestar resolving dependencies in a task group, a fire-and-forget write) runs its
statements as if there were no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

__all__ = [
    "UnitOfWork",
    "after_commit",
    "joined",
    "on_success",
    "open_unit",
    "outside_request",
    "writes",
    "writing_unit",
]

_current: ContextVar[UnitOfWork | None] = ContextVar("orga_unit_of_work", default=None)
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


class UnitTransaction(Protocol):
    """What an engine's transaction offers the unit: open and close it without binding it to
    the task's context, savepoints, and the connection statements run on."""

    connection: Any

    async def open(self) -> None:
        """Take a connection (and the write lock on SQLite) and BEGIN."""

    async def close(self, commit: bool) -> None:
        """COMMIT or ROLLBACK and give the connection (and lock) back, whatever happens."""

    async def savepoint(self) -> Any:
        """A new SAVEPOINT with ``rollback_to()`` and ``release()``."""


def writes(sql: str) -> bool:
    """Whether a statement may write: anything but ``SELECT`` and a ``WITH`` without
    INSERT/UPDATE/DELETE/MERGE (conservative: a false "writes" only begins the transaction
    early)."""
    head = sql.lstrip()[:6].upper()
    if head == "SELECT":
        return False
    if head.startswith("WITH"):
        return bool(_DML.search(sql))
    return True


class UnitOfWork:
    """The writes of one request; see the module docstring."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.task = asyncio.current_task()
        self.transaction: UnitTransaction | None = None
        self.ended = False
        self._after_commit: list[Callable[[], Any]] = []
        self._on_success: list[Callable[[], Awaitable[Any]]] = []
        self._held_in_transaction: list[Callable[[], Awaitable[Any]]] = []

    def _live(self) -> bool:
        return not self.ended and asyncio.current_task() is self.task

    async def begin(self) -> UnitTransaction:
        """Open the request's transaction (the first write needs it); the writes held by
        :func:`on_success` go first, so rows keep the order they were made in."""
        transaction = self.engine.unit_transaction()
        await transaction.open()
        self.transaction = transaction
        self._held_in_transaction, self._on_success = self._on_success, []
        try:
            for write in self._held_in_transaction:
                await write()
        except BaseException:
            await self.abandon()
            raise
        return transaction

    async def abandon(self) -> None:
        """Roll the transaction back and forget it: the request has written nothing again
        (the writes held by :func:`on_success` wait again)."""
        transaction, self.transaction = self.transaction, None
        self._on_success = self._held_in_transaction + self._on_success
        self._held_in_transaction = []
        if transaction is not None:
            await transaction.close(commit=False)

    async def first_write(self, run: Callable[[UnitTransaction], Awaitable[Any]]) -> Any:
        """Begin the transaction and run the statement that needed it; when that statement
        fails, nothing stays written (as if it had run on its own)."""
        transaction = await self.begin()
        try:
            return await run(transaction)
        except BaseException:
            await self.abandon()
            raise

    def block(self) -> _Block:
        """A top-level ``transaction()`` block inside this unit."""
        return _Block(self)

    async def end(self, commit: bool) -> None:
        """Commit or roll back what the request wrote; afterwards statements run as outside a
        request. Writes still held by :func:`on_success` (the request wrote nothing else) run
        on their own after a commit, then the callbacks registered by :func:`after_commit`.

        Raises:
            Exception: when COMMIT fails (the transaction is rolled back) or a held write
                fails.
        """
        held, self._on_success = self._on_success, []
        callbacks, self._after_commit = self._after_commit, []
        transaction, self.transaction = self.transaction, None
        self.ended = True
        if transaction is not None:
            await transaction.close(commit)
        if commit:
            for write in held:
                await write()
            for callback in callbacks:
                await _awaited(callback())


class _Block:
    """``async with transaction()`` as the request's first or a later top-level block."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit
        self.savepoint: Any = None
        self.token: Any = None

    async def __aenter__(self) -> UnitTransaction:
        unit = self.unit
        if unit.transaction is None:
            transaction = await unit.begin()
        else:
            transaction = unit.transaction
            self.savepoint = await transaction.savepoint()
        # blocks nested in this one join it through the engine's own context variable
        self.token = unit.engine.current_transaction.set(transaction)
        return transaction

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> bool:
        self.unit.engine.current_transaction.reset(self.token)
        if exc is None:
            if self.savepoint is not None:
                await self.savepoint.release()
        elif self.savepoint is None:
            await self.unit.abandon()
        else:
            await self.savepoint.rollback_to()
            await self.savepoint.release()
        return False


def joined() -> UnitTransaction | None:
    """The request's transaction when this task's unit has begun one, else ``None``."""
    unit = _current.get()
    if unit is None or unit.transaction is None or not unit._live():
        return None
    return unit.transaction


def writing_unit() -> UnitOfWork | None:
    """This task's unit when it is still open (a write joins or begins its transaction)."""
    unit = _current.get()
    return unit if unit is not None and unit._live() else None


@contextlib.contextmanager
def open_unit(engine: Any) -> Iterator[UnitOfWork]:
    """Make a new unit current for this task for the duration of the block (the request)."""
    unit = UnitOfWork(engine)
    token = _current.set(unit)
    try:
        yield unit
    finally:
        _current.reset(token)


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` (plain or ``async``) once the current request's writes are committed
    (never when they are rolled back); at once outside a request."""
    unit = writing_unit()
    if unit is None:
        run_callback(callback)
    else:
        unit._after_commit.append(callback)


_background: set[asyncio.Future[Any]] = set()


def run_callback(callback: Callable[[], Any]) -> None:
    """Call ``callback`` now; an ``async`` one runs as a task (nothing here can await it)."""
    result = callback()
    if inspect.isawaitable(result):
        task = asyncio.ensure_future(result)
        _background.add(task)  # held until done (the loop keeps only weak references)
        task.add_done_callback(_background.discard)


async def _awaited(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


async def on_success(write: Callable[[], Awaitable[Any]]) -> None:
    """An append-only write (an audit row) that needs no transaction of its own: in a request
    that has written nothing yet it waits for the request's end, is written only when the
    request succeeds, and so leaves the request's reads outside any transaction (on SQLite: no
    write lock held while they run). Anywhere else it is written at once."""
    unit = writing_unit()
    if unit is not None and unit.transaction is None:
        unit._on_success.append(write)
        return
    await write()


@contextlib.contextmanager
def outside_request() -> Iterator[None]:
    """Statements in this block commit on their own, whatever becomes of the request (a failed
    login's counter, the token's last use).

    Raises:
        RuntimeError: when the request has written already; its transaction may hold the
            locks (on SQLite the one write lock) such a statement would wait for forever.
    """
    unit = writing_unit()
    if unit is not None and unit.transaction is not None:
        raise RuntimeError("outside_request() must come before the request's first write")
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)
