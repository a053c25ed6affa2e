"""Tables of people, their phone numbers, tags and consent history."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.orgs.tables import OrgUnit
from core.tables import Stamped, Versioned

__all__ = [
    "ConsentEvent",
    "CustomField",
    "Person",
    "PersonImport",
    "PersonImportError",
    "PersonLinkKey",
    "PersonPhone",
    "PersonTag",
    "Tag",
]


class Person(Stamped, Versioned, Table, tablename="person"):
    """A member, sympathizer or contact. Special-category data (GDPR Art. 9).

    ``first_key``/``last_key`` are lower-cased "first last" / "last first" for indexed name
    search by prefix; the people service keeps them in step with the names. ``has_phone`` says
    whether a valid number exists (kept by ``refresh_phone_flag``), so counts read an index.
    ``pending``: the record came through a public form and its owner has not confirmed it
    yet (core/people/signup.py). On SQLite the id is ``AUTOINCREMENT``: never reused.
    """

    first_name = Varchar(length=200, default="")
    last_name = Varchar(length=200, default="")
    first_key = Varchar(length=401, default="", index=True)
    last_key = Varchar(length=401, default="", index=True)
    email = Varchar(length=320, null=True, default=None, index=True)
    street = Varchar(length=300, null=True, default=None)
    postal_code = Varchar(length=20, null=True, default=None, index=True)
    city = Varchar(length=200, null=True, default=None)
    country = Varchar(length=2, null=True, default=None)
    language = Varchar(length=10, null=True, default=None)
    member_status = Varchar(length=20, default="contact")
    membership_number = Varchar(length=50, null=True, default=None, index=True)
    home_org = ForeignKey(OrgUnit, on_delete=OnDelete.restrict, db_column_name="home_org_id")
    source = Varchar(length=30, null=True, default=None)
    do_not_contact = Boolean(default=False)
    has_phone = Boolean(default=False)
    custom_fields = JSON(default="{}")
    notes = Text(null=True, default=None)
    pending = Boolean(default=False)


class PersonPhone(Table, tablename="person_phone"):
    """A phone number in E.164 form; ``valid`` is cleared when a caller reports a wrong number."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    e164 = Varchar(length=20, index=True)
    valid = Boolean(default=True)
    position = Integer(default=0)


class PersonLinkKey(Table, tablename="person_link_key"):
    """A random key that the person's signed links carry (core/people/links.py); deleted
    with the person and when their e-mail address changes, which voids those links."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    key = Varchar(length=32, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Tag(Stamped, Table, tablename="tag"):
    """A tag defined by an org unit (visible in its subtree)."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    name = Varchar(length=100)


class PersonTag(Table, tablename="person_tag"):
    """Person ``person`` carries tag ``tag``."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    tag = ForeignKey(Tag, on_delete=OnDelete.cascade, db_column_name="tag_id")


class ConsentEvent(Table, tablename="consent_event"):
    """Append-only consent history per channel and purpose (proof under GDPR Art. 7(1))."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    channel = Varchar(length=10)
    purpose = Varchar(length=50, default="general")
    status = Varchar(length=10)
    source = Varchar(length=50)
    reference = Varchar(length=100, null=True, default=None)
    wording = Text(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class CustomField(Stamped, Table, tablename="custom_field"):
    """A custom person field defined by an org unit (visible in its subtree)."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    key = Varchar(length=50)
    label = Varchar(length=200)
    kind = Varchar(length=10)
    choices = JSON(null=True, default=None)


class PersonImport(Stamped, Table, tablename="person_import"):
    """An uploaded file of people: its columns, chosen mapping, state and results."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    user_id = Integer(null=True, default=None)
    filename = Varchar(length=300)
    format = Varchar(length=10)
    stored_path = Varchar(length=1000)
    columns = JSON(default="[]")
    options = JSON(null=True, default=None)
    status = Varchar(length=12, default="uploaded")
    error = Text(null=True, default=None)
    total_rows = Integer(default=0)
    created_count = Integer(default=0)
    updated_count = Integer(default=0)
    skipped_count = Integer(default=0)
    error_count = Integer(default=0)


class PersonImportError(Table, tablename="person_import_error"):
    """One row of an import that was not imported, and why (the message names the problem,
    never the cell's value). ``person`` is the existing person the row's valid keys match:
    erasing them deletes the row."""

    person_import = ForeignKey(PersonImport, on_delete=OnDelete.cascade, db_column_name="import_id")
    person = ForeignKey(
        Person, on_delete=OnDelete.cascade, null=True, default=None, db_column_name="person_id"
    )
    row = Integer()
    field = Varchar(length=100)
    message = Text()
