"""Erasure finds a person's traces by id: ``job.person_id`` (the person whose data a job's
payload holds) and ``person_import_error.person_id`` (the existing person a rejected row
names; deleted with the person). ``person_import.error`` says why an import failed, e.g. that
its command was interrupted. Their indexes follow in the next migration (Piccolo runs raw SQL
before column changes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Text
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Person(Table, tablename="person", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "job.person_id, person_import_error.person_id, person_import.error"

_PLAIN = {
    "default": None,
    "null": True,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Job",
        tablename="job",
        column_name="person_id",
        db_column_name="person_id",
        column_class_name="Integer",
        column_class=Integer,
        params=dict(_PLAIN),
        schema=None,
    )
    manager.add_column(
        table_class_name="PersonImportError",
        tablename="person_import_error",
        column_name="person",
        db_column_name="person_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            **_PLAIN,
            "references": Person,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "db_column_name": "person_id",
        },
        schema=None,
    )
    manager.add_column(
        table_class_name="PersonImport",
        tablename="person_import",
        column_name="error",
        db_column_name="error",
        column_class_name="Text",
        column_class=Text,
        params=dict(_PLAIN),
        schema=None,
    )
    return manager
