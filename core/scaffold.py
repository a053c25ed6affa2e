"""``orga module new NAME``: write a complete, installable module package.

The package has a pyproject with the ``orga.plugins`` entry point, one table (with a first
migration), one org-scoped route, one permission, one segment filter, the
``person_export``/``person_erase``/``people_merged`` hooks, a mail template and a passing test
suite that uses orga's own fixtures.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

__all__ = ["NAME_PATTERN", "write_module_package"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,30}$")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "orga-$name"
version = "0.1.0"
description = "$title: a module for orga"
requires-python = ">=3.11"
dependencies = ["orga"]

[project.entry-points."orga.plugins"]
$name = "orga_$name"

[tool.setuptools.packages.find]
include = ["orga_$name*"]

[tool.setuptools.package-data]
"*" = ["templates/**/*"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
"""

INIT = '''\
"""Module ``$name``: $title."""

from __future__ import annotations

from core import Module, ModuleRoutes, Permission, hookimpl
from core.api import db

NAME = "$name"


@hookimpl
def register_module() -> Module:
    """Identity of the module."""
    return Module(name=NAME, title="$title", version="0.1.0")


@hookimpl
def register_piccolo_app() -> str:
    """Tables and migrations."""
    return "orga_$name.piccolo_app"


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """Who may see and add entries."""
    return (
        Permission(name="$name.view", description="See $name entries",
                   default_roles=("admin", "organizer", "viewer")),
        Permission(name="$name.edit", description="Add $name entries",
                   default_roles=("admin", "organizer")),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Routes under /api/orgs/{org_id}/$name."""
    from orga_$name.routes import handlers

    return ModuleRoutes(org=handlers())


@hookimpl
def register_segment_filters():
    """People with an entry of this module."""
    from orga_$name.filters import HasEntry

    return [HasEntry]


@hookimpl
async def person_export(person_id: int):
    """Entries of the person (GDPR Art. 15)."""
    rows = await db.fetch(
        "SELECT id, org_id, title, created_at FROM ${name}_entry WHERE person_id = {}", person_id
    )
    return {"entries": rows} if rows else None


@hookimpl
async def person_erase(person_id: int) -> None:
    """Delete the person's entries (GDPR Art. 17)."""
    await db.execute("DELETE FROM ${name}_entry WHERE person_id = {}", person_id)


@hookimpl
async def people_merged(kept_id: int, merged_id: int) -> None:
    """Move entries to the kept person."""
    await db.execute(
        "UPDATE ${name}_entry SET person_id = {} WHERE person_id = {}", kept_id, merged_id
    )
'''

TABLES = '''\
"""Tables of the $name module."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import OrgUnit, Person, Stamped


class Entry(Stamped, Table, tablename="${name}_entry"):
    """One $name entry of a person in a unit."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    title = Varchar(length=200)
'''

PICCOLO_APP = '''\
"""The $name module's Piccolo app."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from orga_$name.tables import Entry

APP_CONFIG = AppConfig(
    app_name="$name",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Entry],
    migration_dependencies=["core.piccolo_app"],
)
'''

MIGRATION = '''\
"""First migration of $name: its table and index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-01-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "$name entries"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="$name", description=DESCRIPTION)

    async def create_table():
        from orga_$name.tables import Entry

        await Entry.create_table(if_not_exists=True).run()

    manager.add_raw(create_table)
    return manager
'''

INDEX_MIGRATION = '''\
"""Indexes of $name."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-01-01T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "$name indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="$name", description=DESCRIPTION)
    add_sql(
        manager,
        "CREATE INDEX ${name}_entry_org ON ${name}_entry (org_id, id)",
        "CREATE INDEX ${name}_entry_person ON ${name}_entry (person_id)",
    )
    return manager
'''

ROUTES = '''\
"""Routes of $name (under /api/orgs/{org_id}/$name)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request, get, post

from core.api import (
    Actor,
    OrgScope,
    Page,
    get_person_row,
    invalid,
    page_in_org,
    record,
    requires,
)
from orga_$name.tables import Entry


class EntryIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new entry for a person of this unit."""

    person_id: int
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class EntryOut(msgspec.Struct):
    """An entry."""

    id: int
    person_id: int
    title: str
    created_at: datetime


def _out(row: dict) -> EntryOut:
    return EntryOut(id=row["id"], person_id=row["person_id"], title=row["title"],
                    created_at=row["created_at"])


@get("/", guards=[requires("$name.view")], summary="Entries of this unit")
async def list_entries(org: OrgScope, limit: int = 50, cursor: str | None = None
                       ) -> Page[EntryOut]:
    """Entries, newest first."""
    page = await page_in_org(Entry, org, limit, cursor)
    return Page([_out(r) for r in page.items], page.next_cursor)


@post("/", guards=[requires("$name.edit")], summary="Add an entry")
async def add_entry(request: Request, actor: Actor, org: OrgScope, data: EntryIn) -> EntryOut:
    """Add an entry for a person visible in this unit; a thank-you mail is queued."""
    person = await get_person_row(data.person_id, org.path)
    if person is None:
        raise invalid("person_id", "no such person in this unit")
    rows = await Entry.insert(Entry(org=org.id, person=data.person_id, title=data.title)).run()
    await record("$name.entry_added", user_id=actor.user_id, org_id=org.id,
                 object_type="${name}_entry", object_id=rows[0]["id"])
    if person["email"]:
        await request.app.state.orga.mailer.send(
            to_email=person["email"], template="$name/thanks",
            context={"first_name": person["first_name"], "title": data.title})
    row = await Entry.select().where(Entry.id == rows[0]["id"]).first().run()
    return _out(row)


def handlers() -> list:
    """Route handlers of the module."""
    return [list_entries, add_entry]
'''

FILTERS = '''\
"""Segment filter of $name."""

from __future__ import annotations

from core.api import FilterContext, SegmentFilter


class HasEntry(SegmentFilter, tag="${name}_entry"):
    """People with at least one $name entry."""

    def predicate(self, ctx: FilterContext) -> tuple[str, list]:
        """An entry row exists for the person."""
        return "p.id IN (SELECT person_id FROM ${name}_entry)", []
'''

TEMPLATE = """\
{% block subject %}Thank you, {{ first_name }}{% endblock %}
{% block text %}
Hello {{ first_name }},

thank you for "{{ title }}".
{% endblock %}
"""

TESTS = '''\
"""Tests of $name, with orga's own fixtures (core.testing)."""

from __future__ import annotations

import pytest

from core.api import db
from core.testing import drain_jobs


@pytest.fixture
async def unit(client, factory):
    org = await factory.org("Kreisverband", kind="district")
    await factory.enable(org["id"], "$name")
    return org


async def test_add_and_list_entries(app, client, factory, unit):
    organizer = await factory.user("organizer", unit["id"])
    person = await factory.person(unit["id"], first_name="Rosa", email="rosa@example.org")
    url = f"/api/orgs/{unit['id']}/$name/"
    added = await client.post(url, json={"person_id": person["id"], "title": "Erste"},
                              headers=organizer.headers)
    assert added.status_code == 201, added.text
    listed = await client.get(url, headers=organizer.headers)
    assert [e["title"] for e in listed.json()["items"]] == ["Erste"]
    await drain_jobs(app)
    job = await db.fetch_one("SELECT status, last_error FROM job")
    assert job["status"] == "done", job["last_error"]


async def test_person_of_another_unit_is_refused(client, factory, unit):
    other = await factory.org("Anders", kind="district")
    admin = await factory.user("admin", unit["id"])
    stranger = await factory.person(other["id"])
    response = await client.post(f"/api/orgs/{unit['id']}/$name/",
                                 json={"person_id": stranger["id"], "title": "x"},
                                 headers=admin.headers)
    assert response.status_code == 422


async def test_export_and_erase_hooks(client, factory, unit):
    admin = await factory.user("admin", unit["id"])
    person = await factory.person(unit["id"])
    await client.post(f"/api/orgs/{unit['id']}/$name/",
                      json={"person_id": person["id"], "title": "Zum Exportieren"},
                      headers=admin.headers)
    base = f"/api/orgs/{unit['id']}/people/{person['id']}"
    export = (await client.get(f"{base}/export", headers=admin.headers)).json()
    assert export["modules"]["$name"]["entries"][0]["title"] == "Zum Exportieren"
    assert (await client.delete(base, headers=admin.headers)).status_code == 204
    assert await db.fetch("SELECT * FROM ${name}_entry") == []
'''

README = """\
# orga-$name

$title: a module for [orga](https://example.invalid/orga). Install it next to orga and migrate:

    pip install -e .
    orga migrate

Then switch it on for a unit: `PUT /api/orgs/{org_id}/modules/$name {"enabled": true}`.
Run its tests with orga's fixtures: `pytest` (add `ORGA_TEST_DB=postgres` for PostgreSQL).
"""


def write_module_package(name: str, target_dir: Path, title: str | None = None) -> Path:
    """Write the package ``orga-<name>`` into ``target_dir``; returns its folder.

    Raises:
        ValueError: for an invalid name or an existing folder.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError("NAME must be 2-31 lower-case letters or digits, starting with a letter")
    root = target_dir / f"orga-{name}"
    if root.exists():
        raise ValueError(f"{root} exists already")
    values = {"name": name, "title": title or name.capitalize()}
    package = root / f"orga_{name}"
    files = {
        root / "pyproject.toml": PYPROJECT,
        root / "README.md": README,
        package / "__init__.py": INIT,
        package / "tables.py": TABLES,
        package / "piccolo_app.py": PICCOLO_APP,
        package / "routes.py": ROUTES,
        package / "filters.py": FILTERS,
        package / "piccolo_migrations" / "__init__.py": "",
        package / "piccolo_migrations" / f"{name}_0001_tables.py": MIGRATION,
        package / "piccolo_migrations" / f"{name}_0002_indexes.py": INDEX_MIGRATION,
        package / "templates" / name / "thanks.txt.jinja": TEMPLATE,
        root / "tests" / f"test_{name}.py": TESTS,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        content = Template(text).safe_substitute(values) if "{%" not in text else text
        path.write_text(content)
    return root
