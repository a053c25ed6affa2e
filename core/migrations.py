"""Helpers for hand-written parts of Piccolo migrations (composite and unique indexes, record
versions).

Piccolo's auto migrations cover tables and columns; SQLite cannot add constraints to an
existing table, so composite uniqueness is expressed as ``CREATE UNIQUE INDEX``, which both
SQLite and PostgreSQL understand.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core import db

__all__ = ["add_sql", "add_version"]


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


def add_version(manager: MigrationManager, table: str) -> None:
    """Give ``table`` its ``version`` column (:class:`core.tables.Versioned`) and the trigger
    that adds one to it on every UPDATE of a row, whoever writes it."""
    add_sql(
        manager,
        f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
        postgres=(
            "CREATE OR REPLACE FUNCTION orga_bump_version() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN NEW.version := OLD.version + 1; RETURN NEW; END $$",
            f"CREATE TRIGGER {table}_version BEFORE UPDATE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION orga_bump_version()",
        ),
        sqlite=(
            # the inner UPDATE does not fire the trigger again: recursive triggers are off,
            # and the version differs then
            f"CREATE TRIGGER {table}_version AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN NEW.version = OLD.version BEGIN UPDATE {table} SET version = OLD.version "
            "+ 1 WHERE id = NEW.id; END",
        ),
    )
