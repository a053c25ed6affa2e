"""Helpers for hand-written parts of Piccolo migrations (composite and unique indexes).

Piccolo's auto migrations cover tables and columns; SQLite cannot add constraints to an
existing table, so composite uniqueness is expressed as ``CREATE UNIQUE INDEX``, which both
SQLite and PostgreSQL understand.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core import db

__all__ = ["add_sql"]


def add_sql(
    manager: MigrationManager,
    *statements: str,
    postgres: tuple[str, ...] = (),
    sqlite: tuple[str, ...] = (),
) -> None:
    """Run raw SQL statements (e.g. ``CREATE UNIQUE INDEX``) as part of ``manager``'s migration.

    ``postgres``/``sqlite`` hold statements for one database only (e.g. ``text_pattern_ops``).
    """

    async def run() -> None:
        for statement in [*statements, *(postgres if db.is_postgres() else sqlite)]:
            await db.execute(statement)

    manager.add_raw(run)
