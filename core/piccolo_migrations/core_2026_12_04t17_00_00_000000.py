"""``person.has_phone`` and ``person.has_email`` are computed by the database (issue #22).

``has_phone`` was set by a helper that every code path had to remember to call; ``orga demo``
did not, and 97 % of its members showed as "no number". Now row triggers on ``person_phone``
keep it: any insert, update or delete of a phone row, by any code, sets the flag of the person
it touches. Each is a primary-key lookup that writes only when the flag changes, so a writer
that sets the flag with the row (the import's ``COPY``) pays only a lookup per number. (A
statement-level trigger over the transition table was measured too, 100,000 numbers copied in
chunks of 1,000 into PostgreSQL: as cheap where the flags were set already, but 16 s against
the row trigger's 4 s where it had to set them.)

``has_email`` is a generated column (stored on PostgreSQL, virtual on SQLite, which cannot add
a stored one): true when the e-mail address is set. Both flags are recomputed here for the rows
that exist.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migrations import add_sql

ID = "2026-12-04T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "person.has_phone kept by triggers, person.has_email generated"

_VALID_PHONE = "EXISTS (SELECT 1 FROM person_phone ph WHERE ph.person_id = person.id AND ph.valid)"

_POSTGRES = (
    "ALTER TABLE person ADD COLUMN has_email boolean "
    "GENERATED ALWAYS AS (email IS NOT NULL AND email <> '') STORED",
    "CREATE FUNCTION person_phone_flag() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'DELETE' THEN IF NEW.valid THEN "
    "UPDATE person SET has_phone = true WHERE id = NEW.person_id AND NOT has_phone; "
    "END IF; END IF; "
    "IF TG_OP <> 'INSERT' THEN IF OLD.valid THEN "
    "UPDATE person SET has_phone = false WHERE id = OLD.person_id AND has_phone AND NOT "
    "EXISTS (SELECT 1 FROM person_phone ph WHERE ph.person_id = OLD.person_id AND ph.valid); "
    "END IF; END IF; RETURN NULL; END $$",
    "CREATE TRIGGER person_phone_flag AFTER INSERT OR DELETE OR UPDATE OF valid, person_id "
    "ON person_phone FOR EACH ROW EXECUTE FUNCTION person_phone_flag()",
)

_SQLITE = (
    "ALTER TABLE person ADD COLUMN has_email BOOLEAN "
    "GENERATED ALWAYS AS (email IS NOT NULL AND email <> '') VIRTUAL",
    "CREATE TRIGGER person_phone_insert AFTER INSERT ON person_phone WHEN NEW.valid BEGIN "
    "UPDATE person SET has_phone = 1 WHERE id = NEW.person_id AND NOT has_phone; END",
    "CREATE TRIGGER person_phone_update AFTER UPDATE OF valid, person_id ON person_phone BEGIN "
    f"UPDATE person SET has_phone = {_VALID_PHONE} WHERE id IN (OLD.person_id, NEW.person_id) "
    f"AND has_phone <> {_VALID_PHONE}; END",
    "CREATE TRIGGER person_phone_delete AFTER DELETE ON person_phone WHEN OLD.valid BEGIN "
    f"UPDATE person SET has_phone = 0 WHERE id = OLD.person_id AND has_phone "
    f"AND NOT {_VALID_PHONE}; END",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    add_sql(
        manager,
        f"UPDATE person SET has_phone = {_VALID_PHONE} WHERE has_phone <> {_VALID_PHONE}",
        postgres=_POSTGRES,
        sqlite=_SQLITE,
    )
    return manager
