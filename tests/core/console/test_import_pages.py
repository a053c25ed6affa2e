"""The console's import pages over HTTP (issue #24): upload, the suggested mapping to confirm
or change, the check with per-row errors, start, progress (refreshing itself only while it
runs), the result with the rows not imported; cancel; 404 across units; the menu entry only
for those who may import."""

from __future__ import annotations

import re
from pathlib import Path

from core import db
from core.jobs.worker import Worker
from core.people import uploads
from tests.core.console.helpers import console_login, csrf_of
from tests.core.test_imports import people_csv

MAPPED = {  # the suggested mapping of people_csv's header, by column
    "map-0": "first_name",
    "map-1": "last_name",
    "map-2": "email",
    "map-3": "phone",
    "map-4": "postal_code",
    "map-5": "member_status",
    "map-6": "tags",
}
OPTIONS = {"match_by": ["email", "phone"], "strategy": "skip", "default_member_status": "contact"}


async def _organizer(factory, client, role="organizer"):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    user = await factory.user(role, leipzig["id"])
    await console_login(client, user.email)
    return leipzig, dresden, user


async def _upload(client, org_id: int, content: bytes, filename="leute.csv"):
    page = await client.get(f"/app/orgs/{org_id}/people/imports")
    return await client.post(
        f"/app/orgs/{org_id}/people/imports",
        data={"_csrf": csrf_of(page.text)},
        files={"file": (filename, content, "text/csv")},
    )


def _select(html: str, name: str) -> str:
    """The options of the select ``name``."""
    match = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', html, re.S)
    assert match, name
    return match.group(1)


def _import_id(response) -> int:
    return int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])


async def test_upload_map_check_start_follow_and_result(app, client, factory):
    leipzig, _dresden, user = await _organizer(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people/imports"
    start = await client.get(f"/app/orgs/{leipzig['id']}")
    assert f'href="{base}"' in start.text  # the menu entry
    content, broken = people_csv(60, broken_every=20)

    uploaded = await _upload(client, leipzig["id"], content)
    assert uploaded.status_code == 303, uploaded.text
    import_id = _import_id(uploaded)
    mapping = await client.get(f"{base}/{import_id}")
    assert mapping.status_code == 200
    # a select per column, the suggested field chosen, the first values beside it
    assert '<option value="email" selected>' in _select(mapping.text, "map-2")
    assert "person0@example.org" in mapping.text
    form = {"_csrf": csrf_of(mapping.text), **MAPPED, **OPTIONS, "map-6": ""}  # no tags

    checked = await client.post(f"{base}/{import_id}/check", data=form)
    assert checked.status_code == 200
    assert "Prüfergebnis" in checked.text
    assert f">{60 - len(broken)}</span>" in checked.text  # valid rows
    for row in broken:
        assert f'<td class="num">{row}</td>' in checked.text
    assert " selected" not in _select(checked.text, "map-6")  # the choice stays: none
    assert await db.fetch("SELECT id FROM person") == []  # a check writes nothing

    started = await client.post(f"{base}/{import_id}/confirm", data=form)
    assert started.status_code == 303
    assert started.headers["location"] == f"{base}/{import_id}"
    waiting = await client.get(f"{base}/{import_id}")
    assert "<progress" in waiting.text and "data-poll" in waiting.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in waiting.text
    calm = await client.get(f"{base}/{import_id}", params={"refresh": "off"})
    assert "<progress" in calm.text and 'http-equiv="refresh"' not in calm.text
    audit = await db.fetch(
        "SELECT user_id FROM audit_log WHERE action = 'people.import_confirmed' AND object_id = {}",
        import_id,
    )
    assert audit == [{"user_id": user.id}]
    late = await client.post(f"{base}/{import_id}/check", data=form)  # from an older tab
    assert late.status_code == 303 and late.headers["location"] == f"{base}/{import_id}"

    await Worker(app.state.orga.job_handlers()).drain()
    result = await client.get(f"{base}/{import_id}")
    assert 'http-equiv="refresh"' not in result.text and "data-poll" not in result.text
    assert "Ergebnis" in result.text
    assert f'<span class="figure">{60 - len(broken)}</span> Personen angelegt' in result.text
    for row in broken:
        assert f'<td class="num">{row}</td>' in result.text
    assert (
        "<td>Telefon</td><td>Nummer 1 ist keine Telefonnummer</td>" in result.text
        or "<td>E-Mail-Adresse</td><td>keine gültige E-Mail-Adresse</td>" in result.text
    )
    assert await db.fetch_one("SELECT COUNT(*) AS n FROM person_tag") == {"n": 0}
    listed = await client.get(base)
    assert "leute.csv" in listed.text and "Fertig" in listed.text


async def test_a_changed_mapping_is_what_gets_imported(app, client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people/imports"
    content = (
        b"Name;Mail;Bemerkung\nRosa;rosa@example.org;kommt zur Versammlung\nKarl;karl@@example;\n"
    )
    import_id = _import_id(await _upload(client, leipzig["id"], content))
    mapping = await client.get(f"{base}/{import_id}")
    # "Name" is suggested as the last name; the organizer makes it the first name and
    # imports the remark as notes
    assert '<option value="last_name" selected>' in _select(mapping.text, "map-0")
    form = {
        "_csrf": csrf_of(mapping.text),
        "map-0": "first_name",
        "map-1": "email",
        "map-2": "notes",
        **OPTIONS,
        "consent_channel": "email",
        "consent_wording": "Ja, schickt mir Infos",
    }
    checked = await client.post(f"{base}/{import_id}/check", data=form)
    assert "<td>E-Mail-Adresse</td><td>keine gültige E-Mail-Adresse</td>" in checked.text
    assert (await client.post(f"{base}/{import_id}/confirm", data=form)).status_code == 303
    await Worker(app.state.orga.job_handlers()).drain()
    person = await db.fetch_one("SELECT first_name, last_name, notes FROM person")
    assert person == {"first_name": "Rosa", "last_name": "", "notes": "kommt zur Versammlung"}
    consent = await db.fetch_one("SELECT channel, wording FROM consent_event")
    assert consent == {"channel": "email", "wording": "Ja, schickt mir Infos"}


async def test_bad_options_are_shown_beside_their_field_and_nothing_starts(client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people/imports"
    import_id = _import_id(await _upload(client, leipzig["id"], people_csv(3)[0]))
    mapping = await client.get(f"{base}/{import_id}")
    form = {"_csrf": csrf_of(mapping.text), **MAPPED, **OPTIONS, "strategy": "everything"}
    refused = await client.post(f"{base}/{import_id}/confirm", data=form)
    assert refused.status_code == 422
    assert re.search(r'<fieldset class="field has-error">\s*<legend>', refused.text)
    assert "map-0" in refused.text and '<option value="first_name" selected>' in refused.text
    row = await db.fetch_one("SELECT status FROM person_import WHERE id = {}", import_id)
    assert row == {"status": "uploaded"}


async def test_upload_errors_are_shown_beside_the_file_field(app, client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people/imports"
    page = await client.get(base)
    nothing = await client.post(
        base, data={"_csrf": csrf_of(page.text)}, files={"file": ("", b"", "text/csv")}
    )
    assert nothing.status_code == 422 and 'id="f-file-error"' in nothing.text
    empty = await _upload(client, leipzig["id"], b"")
    assert empty.status_code == 422
    assert "Die Datei hat keine Kopfzeile." in empty.text
    assert await db.fetch("SELECT id FROM person_import") == []
    assert list(uploads.folder(app.state.orga.settings).glob("*.upload")) == []


async def test_cancel_deletes_the_file_and_is_audited(client, factory):
    leipzig, _dresden, user = await _organizer(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people/imports"
    import_id = _import_id(await _upload(client, leipzig["id"], people_csv(3)[0]))
    row = await db.fetch_one("SELECT stored_path FROM person_import WHERE id = {}", import_id)
    assert Path(row["stored_path"]).exists()
    listed = await client.get(base)
    assert f'action="{base}/{import_id}/cancel"' in listed.text
    cancelled = await client.post(
        f"{base}/{import_id}/cancel", data={"_csrf": csrf_of(listed.text)}
    )
    assert cancelled.status_code == 303 and cancelled.headers["location"] == base
    assert not Path(row["stored_path"]).exists()
    state = await client.get(f"{base}/{import_id}")
    assert "Abgebrochen" in state.text and "<progress" not in state.text
    audit = await db.fetch("SELECT user_id FROM audit_log WHERE action = 'people.import_cancelled'")
    assert audit == [{"user_id": user.id}]
    again = await client.post(f"{base}/{import_id}/cancel", data={"_csrf": csrf_of(listed.text)})
    assert again.status_code == 303 and again.headers["location"] == f"{base}/{import_id}"


async def test_another_units_import_is_404_everywhere(client, factory):
    leipzig, dresden, _user = await _organizer(factory, client, role="admin")
    other = await factory.user("admin", dresden["id"])
    uploaded = await client.post(
        f"/api/orgs/{dresden['id']}/people/imports/",
        headers=other.headers,
        files={"file": ("leute.csv", people_csv(3)[0], "text/csv")},
    )
    import_id = uploaded.json()["id"]
    page = await client.get(f"/app/orgs/{leipzig['id']}/people/imports")
    csrf = csrf_of(page.text)
    base = f"/app/orgs/{leipzig['id']}/people/imports/{import_id}"
    assert (await client.get(base)).status_code == 404
    for step in ("check", "confirm", "cancel"):
        response = await client.post(f"{base}/{step}", data={"_csrf": csrf, **MAPPED, **OPTIONS})
        assert response.status_code == 404, step
    row = await db.fetch_one("SELECT status FROM person_import WHERE id = {}", import_id)
    assert row == {"status": "uploaded"}


async def test_only_those_who_may_import_see_the_entry_and_the_pages(client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client, role="viewer")
    base = f"/app/orgs/{leipzig['id']}/people/imports"
    start = await client.get(f"/app/orgs/{leipzig['id']}")
    assert start.status_code == 200 and f'href="{base}"' not in start.text
    assert (await client.get(base)).status_code == 403
