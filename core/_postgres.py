"""Piccolo's PostgreSQL engine, with statements following a request's unit of work.

Outside a request it behaves like ``PostgresEngine``. Inside one (``core._unit``) reads before
the first write run on any pooled connection, the first write begins the request's transaction
on a connection of its own, and every later statement runs there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString

from core import _unit

__all__ = ["UnitPostgresEngine"]


class UnitTransaction(PostgresTransaction):
    """A transaction a request's unit opens and closes without the task's context."""

    async def open(self) -> None:
        """Take a pooled connection and BEGIN."""
        self.connection = await self.get_connection()
        self.transaction = self.connection.transaction()
        try:
            await self.begin()
        except BaseException:
            await self._give_back()
            raise

    async def close(self, commit: bool) -> None:
        """COMMIT or ROLLBACK; the connection goes back to the pool whatever happens."""
        try:
            if commit:
                await self.commit()  # asyncpg rolls back itself when COMMIT fails
            else:
                await self.rollback()
        finally:
            await self._give_back()

    async def _give_back(self) -> None:
        if self.engine.pool:
            await self.engine.pool.release(self.connection)
        else:
            await self.connection.close()


class UnitPostgresEngine(PostgresEngine):
    """``PostgresEngine`` aware of the request's unit of work (see the module docstring)."""

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True):
        """Piccolo's entry point for every query."""
        query, args = querystring.compile_string(engine_type=self.engine_type)
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=str(querystring))
        return await self.fetch_numbered(query, args, _unit.writes(query))

    async def run_ddl(self, ddl: str, in_pool: bool = True):
        """DDL like any write."""
        return await self.fetch_numbered(ddl, (), write=True)

    async def fetch_numbered(self, query: str, args: Sequence[Any], write: bool) -> list[Any]:
        """Run a statement with ``$n`` placeholders: in the current transaction, as the
        request's first write, or on a pooled connection."""
        current = self.current_transaction.get() or _unit.joined()
        if current is not None:
            return await current.connection.fetch(query, *args)
        unit = _unit.writing_unit() if write else None
        if unit is not None:
            return await unit.first_write(lambda t: t.connection.fetch(query, *args))
        if self.pool is None:  # before the pool opened (a one-off command)
            return await self._run_in_new_connection(query, list(args))
        async with self.pool.acquire() as connection:
            return await connection.fetch(query, *args)

    def transaction(self, allow_nested: bool = True) -> Any:
        """A transaction; inside a request, a block of the request's transaction."""
        unit = _unit.writing_unit()
        if unit is not None and self.current_transaction.get() is None:
            return unit.block()
        return PostgresTransaction(engine=self, allow_nested=allow_nested)

    def unit_transaction(self) -> UnitTransaction:
        """The transaction a request's unit of work opens at its first write."""
        return UnitTransaction(engine=self)
