"""Importing people: preview, per-row errors, all-or-nothing, matching, XLSX, consent."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import threading
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from core import db
from core.jobs.worker import Worker
from core.people import imports, uploads
from core.tables import utcnow

HEADER = ["Vorname", "Nachname", "E-Mail", "Telefon", "PLZ", "Status", "Schlagworte"]


def people_csv(rows: int, broken_every: int | None = None, seed: int = 5) -> tuple[bytes, set]:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    broken = set()
    for n in range(rows):
        email, phone = f"person{n}@example.org", f"030 {1000000 + n}"
        if broken_every and n % broken_every == 0:
            broken.add(n + 2)  # file line number: header is line 1
            if rng.random() < 0.5:
                email = f"kaputt{n}@@example"
            else:
                phone = "bitte anrufen"
        writer.writerow(["Anna", f"Müller{n}", email, phone, "10115", "Mitglied", "Miete, Pflege"])
    return out.getvalue().encode("utf-8"), broken


async def upload(client, org, headers, content: bytes, filename="leute.csv"):
    response = await client.post(
        f"/api/orgs/{org}/people/imports/",
        headers=headers,
        files={"file": (filename, content, "text/csv")},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def run_jobs(app):
    return await Worker(app.state.orga.job_handlers()).drain()


@pytest.fixture
async def admin_and_unit(client, factory):
    root = await factory.org("Bund", kind="federal")
    kv = await factory.org("KV", parent=root["id"])
    return kv, await factory.user("admin", root["id"])


async def test_10000_rows_with_3_percent_broken(app, client, admin_and_unit):
    kv, admin = admin_and_unit
    content, broken = people_csv(10_000, broken_every=33)
    assert 290 <= len(broken) <= 310
    created = await upload(client, kv["id"], admin.headers, content)
    assert created["columns"] == HEADER
    mapping = created["suggested_mapping"]
    assert mapping == {
        "Vorname": "first_name",
        "Nachname": "last_name",
        "E-Mail": "email",
        "Telefon": "phone",
        "PLZ": "postal_code",
        "Status": "member_status",
        "Schlagworte": "tags",
    }
    assert (
        created["preview"][0]["values"]["email"] == "person0@example.org"
        or created["preview"][0]["errors"]
    )
    assert created["preview"][1]["phones"] == ["+49301000001"]
    options = {"mapping": mapping, "consent": {"channel": "email", "wording": "Ja, Infos"}}
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    checked = (await client.post(f"{url}/check", json=options, headers=admin.headers)).json()
    assert checked["invalid"] == len(broken) and checked["valid"] == 10_000 - len(broken)
    assert {e["row"] for e in checked["errors"]} == broken
    assert await db.fetch_one("SELECT COUNT(*) AS n FROM person") == {"n": 0}  # nothing yet

    confirmed = await client.post(f"{url}/confirm", json=options, headers=admin.headers)
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "queued"
    await run_jobs(app)
    state = (await client.get(url, headers=admin.headers)).json()
    assert (state["status"], state["created"], state["errors"]) == (
        "done",
        10_000 - len(broken),
        len(broken),
    )
    reported, cursor = set(), None
    while True:
        params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{url}/errors", params=params, headers=admin.headers)).json()
        reported |= {e["row"] for e in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert reported == broken
    sample = await db.fetch_one(
        "SELECT p.member_status, p.home_org_id, (SELECT COUNT(*) FROM person_tag t "
        "WHERE t.person_id = p.id) AS tags, (SELECT source FROM consent_event c "
        "WHERE c.person_id = p.id) AS consent FROM person p WHERE p.email = 'person1@example.org'"
    )
    assert sample == {
        "member_status": "member",
        "home_org_id": kv["id"],
        "tags": 2,
        "consent": f"import:{created['id']}",
    }
    again = await client.post(f"{url}/confirm", json=options, headers=admin.headers)
    assert again.status_code == 409


async def test_failure_mid_import_changes_nothing(app, client, admin_and_unit, monkeypatch):
    kv, admin = admin_and_unit
    await db.execute(
        "INSERT INTO person (first_name, last_name, first_key, last_key, "
        "member_status, home_org_id, custom_fields, created_at, updated_at) VALUES "
        "('Vor', 'Her', 'vor her', 'her vor', 'member', {}, '{{}}', "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        kv["id"],
    )
    content, _ = people_csv(5_000)
    created = await upload(client, kv["id"], admin.headers, content)
    original = imports._insert
    calls = 0

    async def failing_insert(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        await original(*args, **kwargs)

    monkeypatch.setattr(imports, "_insert", failing_insert)
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    await client.post(
        f"{url}/confirm", json={"mapping": created["suggested_mapping"]}, headers=admin.headers
    )
    await run_jobs(app)
    assert await db.fetch_one("SELECT COUNT(*) AS n FROM person") == {"n": 1}
    assert await db.fetch_one("SELECT COUNT(*) AS n FROM person_phone") == {"n": 0}
    assert (await client.get(url, headers=admin.headers)).json()["status"] == "failed"
    assert stored_uploads(app) == []
    job = await db.fetch_one("SELECT status, last_error FROM job WHERE kind = 'people.import'")
    assert "disk full" in job["last_error"]


@pytest.mark.parametrize(
    ("strategy", "city", "first"),
    [("skip", None, "Alt"), ("update_empty", "Leipzig", "Alt"), ("overwrite", "Leipzig", "Neu")],
)
async def test_matching_strategies(app, client, admin_and_unit, strategy, city, first):
    kv, admin = admin_and_unit
    existing = await client.post(
        f"/api/orgs/{kv['id']}/people/",
        headers=admin.headers,
        json={"first_name": "Alt", "last_name": "Bekannt", "email": "known@example.org"},
    )
    person_id = existing.json()["id"]
    content = (
        "Vorname,Nachname,E-Mail,Ort\nNeu,Bekannt,KNOWN@example.org,Leipzig\n"
        "Neu,Fremd,new@example.org,Halle\n"
    )
    created = await upload(client, kv["id"], admin.headers, content.encode())
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    mapping = {"Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email", "Ort": "city"}
    await client.post(
        f"{url}/confirm",
        headers=admin.headers,
        json={"mapping": mapping, "match_by": ["email"], "strategy": strategy},
    )
    await run_jobs(app)
    row = await db.fetch_one("SELECT first_name, city FROM person WHERE id = {}", person_id)
    assert (row["first_name"], row["city"]) == (first, city)
    assert await db.fetch_one("SELECT COUNT(*) AS n FROM person") == {"n": 2}


async def test_xlsx_is_read(app, client, admin_and_unit):
    kv, admin = admin_and_unit
    book = Workbook()
    sheet = book.active
    sheet.append(["Vorname", "Nachname", "Telefon", "Mitgliedsnummer"])
    sheet.append(["Åsa", "Öberg", "+46 8 123 456 78", 4711])
    sheet.append(["Jürgen", "Groß", "0171 2345678", 4712])
    buffer = io.BytesIO()
    book.save(buffer)
    created = await upload(client, kv["id"], admin.headers, buffer.getvalue(), "liste.xlsx")
    assert created["format"] == "xlsx"
    assert created["preview"][0]["phones"] == ["+46812345678"]
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    await client.post(
        f"{url}/confirm", json={"mapping": created["suggested_mapping"]}, headers=admin.headers
    )
    await run_jobs(app)
    rows = await db.fetch("SELECT first_name, membership_number FROM person ORDER BY id")
    assert [(r["first_name"], r["membership_number"]) for r in rows] == [
        ("Åsa", "4711"),
        ("Jürgen", "4712"),
    ]


async def test_another_units_import_is_404(client, factory, admin_and_unit):
    kv, admin = admin_and_unit
    created = await upload(client, kv["id"], admin.headers, b"Nachname\nX\n")
    other = await factory.org("Anders", kind="federal")
    stranger = await factory.user("admin", other["id"])
    response = await client.get(
        f"/api/orgs/{other['id']}/people/imports/{created['id']}", headers=stranger.headers
    )
    assert response.status_code == 404


async def test_a_units_imports_are_listed_newest_first(client, factory, admin_and_unit):
    kv, admin = admin_and_unit
    first = await upload(client, kv["id"], admin.headers, b"Nachname\nX\n", "eins.csv")
    second = await upload(client, kv["id"], admin.headers, b"Nachname\nY\n", "zwei.csv")
    other = await factory.org("Anders", kind="federal")
    stranger = await factory.user("admin", other["id"])
    await upload(client, other["id"], stranger.headers, b"Nachname\nZ\n", "fremd.csv")
    url = f"/api/orgs/{kv['id']}/people/imports/"
    page = (await client.get(url, params={"limit": 1}, headers=admin.headers)).json()
    assert [(i["id"], i["filename"]) for i in page["items"]] == [(second["id"], "zwei.csv")]
    rest = await client.get(
        url, params={"limit": 1, "cursor": page["next_cursor"]}, headers=admin.headers
    )
    assert [i["id"] for i in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None


cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(cell, cell, cell, cell, cell), max_size=10))
def test_row_checking_never_crashes_and_names_fields(rows):
    options = imports.ImportOptions(
        mapping={
            "a": "last_name",
            "b": "email",
            "c": "phone",
            "d": "member_status",
            "e": "postal_code",
        }
    )
    results = list(
        imports.check_rows(["a", "b", "c", "d", "e"], iter([list(r) for r in rows]), options, "DE")
    )
    for result in results:
        for field, message in result.errors:
            assert field in {"last_name", "email", "phone", "member_status", "postal_code", "row"}
            assert message
        if not result.errors:
            email = result.values.get("email")
            assert email is None or ("@" in email and email == email.lower())
            assert all(p.startswith("+") and p[1:].isdigit() for p in result.phones)
            assert result.values.get("member_status", "member") in {
                "member",
                "former_member",
                "sympathizer",
                "contact",
            }


async def test_unreadable_file_is_a_clear_error(client, admin_and_unit):
    kv, admin = admin_and_unit
    response = await client.post(
        f"/api/orgs/{kv['id']}/people/imports/",
        headers=admin.headers,
        files={"file": ("liste.xlsx", b"PK\x03\x04 not a workbook", "application/octet-stream")},
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:orga:problem:import-unreadable"
    missing = await client.post(
        f"/api/orgs/{kv['id']}/people/imports/",
        headers=admin.headers,
        files={"other": ("x.csv", b"a\n1\n", "text/csv")},
    )
    assert missing.status_code == 422


def stored_uploads(app) -> list[str]:
    """The files in the uploads folder."""
    folder = uploads.folder(app.state.orga.settings)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_uploads_are_deleted_when_their_import_ends(app, client, admin_and_unit):
    kv, admin = admin_and_unit
    base = f"/api/orgs/{kv['id']}/people/imports"
    content = b"Vorname;Nachname\nAnna;Alt\n"
    options = {"mapping": {"Vorname": "first_name", "Nachname": "last_name"}}

    done = await upload(client, kv["id"], admin.headers, content)
    assert len(stored_uploads(app)) == 1
    await client.post(f"{base}/{done['id']}/confirm", json=options, headers=admin.headers)
    await run_jobs(app)
    assert (await client.get(f"{base}/{done['id']}", headers=admin.headers)).json()["status"] == (
        "done"
    )
    assert stored_uploads(app) == []
    ended = await client.post(f"{base}/{done['id']}/check", json=options, headers=admin.headers)
    assert ended.status_code == 409
    assert ended.json()["type"] == "urn:orga:problem:import-ended"

    cancelled = await upload(client, kv["id"], admin.headers, content)
    answer = await client.post(f"{base}/{cancelled['id']}/cancel", headers=admin.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert stored_uploads(app) == []
    assert (
        await client.post(f"{base}/{cancelled['id']}/cancel", headers=admin.headers)
    ).status_code == 409
    audit = await db.fetch(
        "SELECT object_id FROM audit_log WHERE action = 'people.import_cancelled'"
    )
    assert audit == [{"object_id": cancelled["id"]}]

    forgotten = await upload(client, kv["id"], admin.headers, content)
    await run_jobs(app)  # its expiry is due only in ORGA_IMPORT_UPLOAD_HOURS
    assert len(stored_uploads(app)) == 1
    [job] = await db.fetch(
        "SELECT run_at FROM job WHERE dedupe_key = {}",
        f"people.import_expire:{forgotten['id']}",
    )
    run_at = job["run_at"]
    assert timedelta(hours=23) < run_at - utcnow() <= timedelta(hours=24)
    await db.execute("UPDATE job SET run_at = {} WHERE kind = 'people.import_expire'", utcnow())
    await run_jobs(app)
    state = (await client.get(f"{base}/{forgotten['id']}", headers=admin.headers)).json()
    assert state["status"] == "expired"
    assert stored_uploads(app) == []
    late = await client.post(
        f"{base}/{forgotten['id']}/confirm", json=options, headers=admin.headers
    )
    assert late.status_code == 409

    rejected = await client.post(
        f"{base}/",
        headers=admin.headers,
        files={"file": ("x.csv", content, "text/csv")},
        data={"mapping": "{not json"},
    )
    assert rejected.status_code == 422
    empty = await client.post(
        f"{base}/", headers=admin.headers, files={"file": ("x.csv", b"", "text/csv")}
    )
    assert empty.status_code == 422
    assert stored_uploads(app) == []


async def test_a_failed_import_ends_and_its_upload_goes(app, client, admin_and_unit, monkeypatch):
    kv, admin = admin_and_unit
    created = await upload(client, kv["id"], admin.headers, b"Nachname\nAlt\n")

    async def failing(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "run_import", failing)
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    await client.post(
        f"{url}/confirm", json={"mapping": {"Nachname": "last_name"}}, headers=admin.headers
    )
    await run_jobs(app)
    state = (await client.get(url, headers=admin.headers)).json()
    assert (state["status"], state["error"]) == ("failed", "RuntimeError")
    assert stored_uploads(app) == []
    job = await db.fetch_one("SELECT status, attempts FROM job WHERE kind = 'people.import'")
    assert job == {"status": "failed", "attempts": 1}  # ended: no retry without its file


async def _import_row(org_id: int, minutes_ago: int) -> int:
    rows = await db.fetch(
        "INSERT INTO person_import (org_id, filename, format, stored_path, columns, status, "
        "total_rows, created_count, updated_count, skipped_count, error_count, created_at, "
        "updated_at) VALUES ({}, 'x.csv', 'csv', '/elsewhere/x.csv', '[]', 'running', 0, 0, 0, "
        "0, 0, {}, {}) RETURNING id",
        org_id,
        utcnow() - timedelta(minutes=minutes_ago),
        utcnow() - timedelta(minutes=minutes_ago),
    )
    return rows[0]["id"]


async def test_only_imports_whose_process_died_are_marked_interrupted(app, client, admin_and_unit):
    kv, _ = admin_and_unit
    settings = app.state.orga.settings
    dead = await _import_row(kv["id"], minutes_ago=5)
    just_started = await _import_row(kv["id"], minutes_ago=0)
    live = await _import_row(kv["id"], minutes_ago=5)
    release = threading.Event()

    def slow_rows():
        yield imports.RowResult(number=2, values={"last_name": "Eins"})
        release.wait(10)  # the import's transaction stays open meanwhile
        yield imports.RowResult(number=3, values={"last_name": "Zwei"})

    running = asyncio.create_task(
        imports.run_import(
            live, kv["id"], kv["path"], slow_rows(), imports.ImportOptions(mapping={})
        )
    )
    await asyncio.sleep(0.3)
    checking = asyncio.create_task(uploads.fail_interrupted(settings))
    await asyncio.sleep(0.3)
    release.set()
    await running
    assert await checking in ([dead], [])  # SQLite: waited for the live import's write lock
    assert await uploads.fail_interrupted(settings) in ([dead], [])
    states = {
        r["id"]: (r["status"], r["error"])
        for r in await db.fetch("SELECT id, status, error FROM person_import")
    }
    assert states == {
        dead: ("failed", uploads.INTERRUPTED),
        just_started: ("running", None),
        live: ("done", None),
    }


async def test_a_field_over_the_csv_limit_is_one_rows_error(app, client, admin_and_unit):
    """A field over the csv module's 128 KiB limit after the header (a 500 before issue #21):
    the upload's preview (row 3) and the full check (row 30) name that row, the other rows are
    read with the right columns, and the import takes every other row (issue #22: one broken
    row costs that row, not the file)."""
    kv, admin = admin_and_unit
    base = f"/api/orgs/{kv['id']}/people/imports/"

    def with_big_field(row: int) -> bytes:
        lines = [";".join(HEADER)]
        for n in range(2, 40):
            name = "x" * (140 * 1024) if n == row else f"Müller{n}"
            lines.append(f"Anna;{name};p{n}@example.org;;10115;Mitglied;")
        return ("\n".join(lines) + "\n").encode()

    early = await upload(client, kv["id"], admin.headers, with_big_field(3))
    assert early["columns"] == HEADER
    [broken] = [row for row in early["preview"] if row["errors"]]
    assert broken["row"] == 3 and "cannot be read" in broken["errors"][0]["message"]

    late = await upload(client, kv["id"], admin.headers, with_big_field(30))
    options = {"mapping": late["suggested_mapping"]}
    check = await client.post(f"{base}{late['id']}/check", json=options, headers=admin.headers)
    assert check.status_code == 200, check.text
    assert (check.json()["invalid"], check.json()["errors"][0]["row"]) == (1, 30)
    confirm = await client.post(f"{base}{late['id']}/confirm", json=options, headers=admin.headers)
    assert confirm.status_code == 202
    await run_jobs(app)
    state = await client.get(f"{base}{late['id']}", headers=admin.headers)
    assert (state.json()["status"], state.json()["created"], state.json()["errors"]) == (
        "done",
        37,
        1,
    )


async def check_file(client, org, headers, content: bytes, mapping, filename="leute.csv"):
    """Upload ``content`` and check every row with ``mapping``: (upload, check result)."""
    created = await upload(client, org, headers, content, filename)
    url = f"/api/orgs/{org}/people/imports/{created['id']}"
    checked = await client.post(f"{url}/check", json={"mapping": mapping}, headers=headers)
    assert checked.status_code == 200, checked.text
    return created, checked.json()


async def test_an_unterminated_quote_is_one_rows_error(app, client, admin_and_unit):
    """Issue #22: an opening quote never closed swallowed the rest of the file into one cell."""
    kv, admin = admin_and_unit
    content = (
        b"Vorname;Nachname;E-Mail;Notizen\n"
        b"Anna;Alt;anna@example.org;\n"
        b'Bernd;"Baum;bernd@example.org;\n'  # row 3: the quote is never closed
        b'Carla;Christ;carla@example.org;"zwei\nZeilen"\n'  # row 4: a real multi-line note
        b"Dora;Dach;dora@example.org;\n"
        b'Emil;Eck;emil@example.org;"5"" Zoll"\n'
        b"Fritz;Fuchs;fritz@example.org;\n"
    )
    mapping = {"Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email"}
    mapping["Notizen"] = "notes"
    created, checked = await check_file(client, kv["id"], admin.headers, content, mapping)
    assert (checked["rows"], checked["valid"], checked["invalid"]) == (6, 5, 1)
    [error] = checked["errors"]
    assert (error["row"], error["field"]) == (3, "row")
    assert "line 3" in error["message"] and "Baum" not in error["message"]
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    await client.post(f"{url}/confirm", json={"mapping": mapping}, headers=admin.headers)
    await run_jobs(app)
    rows = await db.fetch("SELECT first_name, notes FROM person ORDER BY id")
    assert [(r["first_name"], r["notes"]) for r in rows] == [
        ("Anna", None),
        ("Carla", "zwei\nZeilen"),
        ("Dora", None),
        ("Emil", '5" Zoll'),
        ("Fritz", None),
    ]


def workbook_bytes(rows, cached: dict[str, str] | None = None, stated: str | None = None) -> bytes:
    """An XLSX file of ``rows`` (openpyxl stores formulas without results); ``cached`` gives
    some formula cells (``"C4"``) a stored result, as a spreadsheet program would; ``stated``
    replaces the size the sheet states for itself (``"A1:D2"``), as some programs get it
    wrong."""
    import re
    import zipfile

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not cached and not stated:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if stated:
                    text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{stated}"', text)
                for ref, value in (cached or {}).items():
                    text = re.sub(
                        rf'<c r="{ref}"><f>(.*?)</f><v\s*/>',
                        rf'<c r="{ref}" t="str"><f>\1</f><v>{value}</v>',
                        text,
                    )
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


async def test_an_xlsx_formula_without_a_stored_result_is_a_rows_error(app, client, admin_and_unit):
    """Issue #22: formula cells without a stored result were read as empty, silently (and
    the rows below a sheet's wrongly stated size were not read at all)."""
    kv, admin = admin_and_unit
    content = workbook_bytes(
        [
            ["Vorname", "Nachname", "Telefon", "Hilfsspalte"],
            ["Anna", "Alt", '="030 "&"1234567"', "=1+1"],  # row 2: no result stored
            ["Bernd", "Baum", "030 7654321", "=1+1"],  # a formula only in an unmapped column
            ["Carla", "Christ", '="030 "&"1111111"', None],  # row 4: result stored
        ],
        cached={"C4": "030 1111111"},
        stated="A1:D2",  # too small: the rows below were dropped silently too
    )
    mapping = {"Vorname": "first_name", "Nachname": "last_name", "Telefon": "phone"}
    created, checked = await check_file(
        client, kv["id"], admin.headers, content, mapping, "liste.xlsx"
    )
    assert (checked["rows"], checked["valid"], checked["invalid"]) == (3, 2, 1)
    [error] = checked["errors"]
    assert (error["row"], error["field"]) == (2, "phone")
    assert "'Telefon'" in error["message"] and "formula" in error["message"]
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    await client.post(f"{url}/confirm", json={"mapping": mapping}, headers=admin.headers)
    await run_jobs(app)
    rows = await db.fetch(
        "SELECT p.first_name, ph.e164 FROM person p JOIN person_phone ph "
        "ON ph.person_id = p.id ORDER BY p.id"
    )
    assert [(r["first_name"], r["e164"]) for r in rows] == [
        ("Bernd", "+49307654321"),
        ("Carla", "+49301111111"),
    ]


async def test_letters_in_a_phone_number_are_an_error(client, admin_and_unit):
    """Issue #22: ``123abc`` became +49123222 (letters read as a keypad's)."""
    kv, admin = admin_and_unit
    content = "Nachname;Telefon\nAlt;123abc\nBaum;0151 2345678 ext 9\nChrist;(030) 123-45.67\n"
    _, checked = await check_file(
        client,
        kv["id"],
        admin.headers,
        content.encode(),
        {"Nachname": "last_name", "Telefon": "phone"},
    )
    assert [(e["row"], e["field"]) for e in checked["errors"]] == [(2, "phone"), (3, "phone")]
    assert checked["valid"] == 1
    response = await client.post(
        f"/api/orgs/{kv['id']}/people/",
        json={"last_name": "Alt", "phones": ["030 1234567", "123abc"]},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "phones[1]"


async def test_a_running_import_reports_its_progress(app, client, admin_and_unit, monkeypatch):
    """Issue #22: ``GET …/imports/{id}`` says how many rows of how many are done."""
    kv, admin = admin_and_unit
    content, _ = people_csv(30)
    created = await upload(client, kv["id"], admin.headers, content)
    url = f"/api/orgs/{kv['id']}/people/imports/{created['id']}"
    assert (created["total_rows"], created["done_rows"]) == (0, 0)
    monkeypatch.setattr(imports, "CHUNK", 10)
    original, gate, chunks = imports._write_chunk, asyncio.Event(), []

    async def held_after_the_first_chunk(*args, **kwargs):
        if chunks:
            await gate.wait()
        chunks.append(len(args[0]))
        await original(*args, **kwargs)

    monkeypatch.setattr(imports, "_write_chunk", held_after_the_first_chunk)
    options = {"mapping": created["suggested_mapping"]}
    await client.post(f"{url}/confirm", json=options, headers=admin.headers)
    worker = asyncio.create_task(run_jobs(app))
    try:
        for _ in range(200):
            state = (await client.get(url, headers=admin.headers)).json()
            if state["done_rows"]:
                break
            await asyncio.sleep(0.05)
        assert (state["status"], state["done_rows"], state["total_rows"]) == ("running", 10, 30)
    finally:
        gate.set()
        await worker
    state = (await client.get(url, headers=admin.headers)).json()
    assert (state["status"], state["done_rows"], state["total_rows"]) == ("done", 30, 30)
    assert stored_uploads(app) == []  # the progress went with the upload
