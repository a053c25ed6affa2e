"""Erasure leaves no trace: not in job payloads, import error rows, the mail folder or the
uploads, and on SQLite not in free pages or the write-ahead log either (issue #21, item 4)."""

from __future__ import annotations

from pathlib import Path

from core import db
from core.jobs.worker import Worker
from core.templating import RenderedMail

FIRST, LAST = "Quirinalda", "Zwetschgenbaum"
EMAIL = "quirinalda.z@pflaumenhain.example"
PHONE = "030 98765432"
NOTE = "Xylophonkonzert im Hinterhof"
TRACES = (FIRST, LAST, EMAIL, "98765432", "Xylophonkonzert")


async def drain(app) -> int:
    return await Worker(app.state.orga.job_handlers()).drain()


async def all_rows() -> str:
    """Every row of every table, as text."""
    if db.is_postgres():
        sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    dump = []
    for table in [r["name"] for r in await db.fetch(sql)]:
        dump += [repr(row) for row in await db.fetch(f'SELECT * FROM "{table}"')]
    return "\n".join(dump)


def raw_files(settings) -> dict[str, bytes]:
    """The bytes of every file in the var folder and, on SQLite, of the database, its WAL and
    its shared-memory index."""
    files = {str(p): p.read_bytes() for p in Path(settings.var_dir).rglob("*") if p.is_file()}
    if settings.is_sqlite:
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        for path in database.parent.glob(database.name + "*"):
            files[str(path)] = path.read_bytes()
    return files


def found(files: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (trace, name) for name, data in files.items() for trace in TRACES if trace.encode() in data
    ]


async def test_erasure_leaves_no_trace_in_database_files_wal_or_var(app, client, factory):
    settings = app.state.orga.settings
    root = await factory.org("Bund", kind="federal")
    await factory.enable(root["id"], "mailings")
    admin = await factory.user("admin", root["id"])
    base = f"/api/orgs/{root['id']}"
    for n in range(3):  # neighbours on the same pages, which stay in use
        await factory.person(root["id"], first_name=f"Nachbar{n}", email=f"n{n}@example.org")
    created = await client.post(
        f"{base}/people/",
        headers=admin.headers,
        json={
            "first_name": FIRST,
            "last_name": LAST,
            "email": EMAIL,
            "phones": [PHONE],
            "notes": NOTE,
        },
    )
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]

    # An import row that names her, with a cell that is no phone number.
    upload = await client.post(
        f"{base}/people/imports/",
        headers=admin.headers,
        files={
            "file": (
                "liste.csv",
                f"Vorname;Nachname;E-Mail;Telefon\n{FIRST};{LAST};{EMAIL};bitte {LAST} anrufen\n",
                "text/csv",
            )
        },
    )
    assert upload.status_code == 201, upload.text
    imported = upload.json()
    url = f"{base}/people/imports/{imported['id']}"
    confirmed = await client.post(
        f"{url}/confirm", json={"mapping": imported["suggested_mapping"]}, headers=admin.headers
    )
    assert confirmed.status_code == 202, confirmed.text
    await drain(app)
    [error] = await db.fetch(
        "SELECT field, message, person_id FROM person_import_error WHERE import_id = {}",
        imported["id"],
    )
    assert error == {
        "field": "phone",
        "message": "number 1 is not a phone number",
        "person_id": person_id,
    }

    # A test mail rendered with her data (to the organizer), and a mail to her.
    mailing = await client.post(
        f"{base}/mailings/",
        headers=admin.headers,
        json={
            "subject": "Hallo {{ person.first_name }}",
            "sender_name": "Die Linke",
            "sender_address": "kv@example.org",
            "body": "Liebe:r {{ person.first_name }} {{ person.last_name }} ({{ person.email }})",
            "audience": {"filters": [{"type": "org", "org_id": root["id"]}]},
        },
    )
    assert mailing.status_code == 201, mailing.text
    tested = await client.post(
        f"{base}/mailings/{mailing.json()['id']}/test",
        headers=admin.headers,
        json={"email": "pruefer@example.org", "person_id": person_id},
    )
    assert tested.status_code == 202, tested.text
    await app.state.orga.mailer.enqueue(
        to_email=EMAIL,
        to_name=f"{FIRST} {LAST}",
        rendered=RenderedMail(subject="Danke", text="Danke fürs Mitmachen\n", html=None),
    )
    await drain(app)
    await app.state.orga.mailer.enqueue(  # still queued at the erasure
        to_email="pruefer@example.org",
        rendered=RenderedMail(subject="Noch einmal", text=f"{FIRST} {LAST}\n", html=None),
        person_id=person_id,
    )
    rows = await all_rows()
    assert all(trace in rows for trace in TRACES)
    assert any(
        FIRST.encode() in data for name, data in raw_files(settings).items() if "/mail/" in name
    )

    await db.checkpoint()  # her rows are in the database file, not only in the log
    erased = await client.delete(f"{base}/people/{person_id}", headers=admin.headers)
    assert erased.status_code == 204

    rows = await all_rows()
    assert [trace for trace in TRACES if trace in rows] == []
    assert await db.fetch("SELECT id FROM person_import_error") == []
    assert found(raw_files(settings)) == []
    mail_left = [p for p in (Path(settings.mail_dir) / "new").iterdir()]
    assert mail_left == []  # both mails were hers


async def test_import_error_messages_never_repeat_the_cell(app, client, factory):
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    base = f"/api/orgs/{root['id']}/people/imports"
    content = (
        "Vorname;E-Mail;Telefon;Status;Quelle\n"
        "Eva;eva@@geheim.example;geheim;Geheimbund;Geheimquelle\n"
    )
    upload = await client.post(
        f"{base}/", headers=admin.headers, files={"file": ("x.csv", content, "text/csv")}
    )
    mapping = upload.json()["suggested_mapping"] | {"Quelle": "source"}
    url = f"{base}/{upload.json()['id']}"
    await client.post(f"{url}/confirm", json={"mapping": mapping}, headers=admin.headers)
    await drain(app)
    errors = (await client.get(f"{url}/errors", headers=admin.headers)).json()["items"]
    assert {e["field"] for e in errors} == {"email", "phone", "member_status", "source"}
    assert not [e for e in errors if "geheim" in e["message"].lower()]
