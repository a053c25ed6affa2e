"""Public forms and links (issue #21): ``person.pending``, person link keys, ids never reused.

- ``person.pending``: a record made by a public form, not yet confirmed by its owner.
- ``person_link_key``: the keys signed links carry; a trigger deletes a person's keys when
  their e-mail address changes (erasure deletes them by cascade).
- SQLite: ``person`` becomes ``AUTOINCREMENT``, so the id of an erased person is never given
  to the next one. The table keeps its on-disk format (a rowid table either way), so the
  declaration is changed in place (SQLite's documented procedure for such changes:
  writable_schema, then a new schema_version) instead of copying the table, which would fire
  the cascades of every table that refers to it. PostgreSQL's sequences never reuse ids.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core import db

ID = "2026-12-04T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "person.pending, person_link_key, person ids never reused on SQLite"

_SQLITE = (
    "ALTER TABLE person ADD COLUMN pending BOOLEAN NOT NULL DEFAULT false",
    'CREATE TABLE person_link_key ("id" INTEGER PRIMARY KEY NOT NULL, '
    '"person_id" INTEGER NOT NULL REFERENCES "person" ("id") ON DELETE CASCADE '
    'ON UPDATE CASCADE, "key" VARCHAR(32) NOT NULL UNIQUE, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    "CREATE INDEX person_link_key_person ON person_link_key (person_id)",
    "CREATE TRIGGER person_email_voids_links AFTER UPDATE OF email ON person "
    "FOR EACH ROW WHEN OLD.email IS NOT NEW.email "
    "BEGIN DELETE FROM person_link_key WHERE person_id = NEW.id; END",
)
_POSTGRES = (
    "ALTER TABLE person ADD COLUMN pending BOOLEAN NOT NULL DEFAULT false",
    "CREATE TABLE person_link_key (id SERIAL PRIMARY KEY, "
    "person_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE ON UPDATE CASCADE, "
    "key VARCHAR(32) NOT NULL UNIQUE, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE INDEX person_link_key_person ON person_link_key (person_id)",
    "CREATE FUNCTION person_email_voids_links() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM person_link_key WHERE person_id = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER person_email_voids_links AFTER UPDATE OF email ON person "
    "FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) "
    "EXECUTE FUNCTION person_email_voids_links()",
)


async def _sqlite_autoincrement() -> None:
    """Declare ``person.id`` AUTOINCREMENT and start its counter at the highest id."""
    row = await db.fetch_one("SELECT sql FROM sqlite_master WHERE name = 'person'")
    old = '"id" INTEGER PRIMARY KEY NOT NULL'
    if old not in row["sql"]:
        raise RuntimeError("person: unexpected table declaration, cannot add AUTOINCREMENT")
    # sqlite_sequence exists once any AUTOINCREMENT table was created.
    await db.execute("CREATE TABLE orga_sequence_init (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    await db.execute("DROP TABLE orga_sequence_init")
    version = (await db.fetch_one("PRAGMA schema_version"))["schema_version"]
    await db.execute("PRAGMA writable_schema = ON")
    await db.execute(
        "UPDATE sqlite_master SET sql = {} WHERE type = 'table' AND name = 'person'",
        row["sql"].replace(old, '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL'),
    )
    await db.execute(f"PRAGMA schema_version = {int(version) + 1}")
    await db.execute("PRAGMA writable_schema = OFF")
    await db.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'person', COALESCE(MAX(id), 0) "
        "FROM person"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run() -> None:
        for statement in _POSTGRES if db.is_postgres() else _SQLITE:
            await db.execute(statement)
        if not db.is_postgres():
            await _sqlite_autoincrement()

    manager.add_raw(run)
    return manager
