"""The console's people pages over HTTP (issue #24): search, a person (audited), create and
edit with errors beside the fields, export, erasure with a typed confirmation, 404 across
units."""

from __future__ import annotations

from core import db
from core.audit.services import flush_list_reads
from tests.core.console.helpers import console_login, csrf_of


async def _organizer(factory, client, role="admin"):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    user = await factory.user(role, leipzig["id"])
    await console_login(client, user.email)
    return leipzig, dresden, user


async def test_search_finds_people_and_each_page_is_audited(app, client, factory):
    leipzig, dresden, _user = await _organizer(factory, client)
    rosa = await factory.person(leipzig["id"], first_name="Rosa", last_name="Luxemburg")
    await factory.person(leipzig["id"], first_name="Karl", last_name="Liebknecht")
    await factory.person(dresden["id"], first_name="Rosa", last_name="Anders")
    page = await client.get(f"/app/orgs/{leipzig['id']}/people", params={"q": "rosa"})
    assert page.status_code == 200
    assert "Rosa Luxemburg" in page.text and "Liebknecht" not in page.text
    assert "Anders" not in page.text  # another district
    await flush_list_reads(app)
    rows = await db.fetch("SELECT detail FROM audit_log WHERE action = 'people.listed'")
    assert rows and str(rosa["id"]) in str(rows[-1]["detail"])


async def test_a_person_page_is_an_audited_read_and_404_across_units(client, factory):
    leipzig, dresden, user = await _organizer(factory, client)
    rosa = await factory.person(leipzig["id"], first_name="Rosa", notes="Spendet")
    other = await factory.person(dresden["id"], first_name="Fremd")
    page = await client.get(f"/app/orgs/{leipzig['id']}/people/{rosa['id']}")
    assert page.status_code == 200 and "Spendet" in page.text
    read = await db.fetch(
        "SELECT user_id FROM audit_log WHERE action = 'person.read' AND object_id = {}",
        rosa["id"],
    )
    assert read == [{"user_id": user.id}]
    hidden = await client.get(f"/app/orgs/{leipzig['id']}/people/{other['id']}")
    assert hidden.status_code == 404 and "Fremd" not in hidden.text


async def test_create_and_edit_show_errors_beside_the_field_and_save(client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client)
    new = await client.get(f"/app/orgs/{leipzig['id']}/people/new")
    bad = await client.post(
        f"/app/orgs/{leipzig['id']}/people/new",
        data={"first_name": "Clara", "email": "not-an-address", "_csrf": csrf_of(new.text)},
    )
    assert bad.status_code == 422
    assert 'id="f-email-error"' in bad.text and 'aria-invalid="true"' in bad.text
    assert 'value="Clara"' in bad.text  # nothing typed is lost
    assert await db.fetch("SELECT id FROM person") == []
    made = await client.post(
        f"/app/orgs/{leipzig['id']}/people/new",
        data={
            "first_name": "Clara",
            "last_name": "Zetkin",
            "email": "clara@example.org",
            "phones": "0341 1234567",
            "tags": "Infostand, Zeitung",
            "_csrf": csrf_of(new.text),
        },
    )
    assert made.status_code == 303
    person = await db.fetch_one("SELECT id, email, has_phone FROM person")
    assert person["email"] == "clara@example.org" and person["has_phone"]
    edit = await client.get(f"/app/orgs/{leipzig['id']}/people/{person['id']}/edit")
    assert 'value="Zetkin"' in edit.text
    saved = await client.post(
        f"/app/orgs/{leipzig['id']}/people/{person['id']}/edit",
        data={
            "first_name": "Clara",
            "last_name": "Zetkin",
            "email": "clara@example.org",
            "member_status": "member",
            "_csrf": csrf_of(edit.text),
        },
    )
    assert saved.status_code == 303
    row = await db.fetch_one("SELECT member_status FROM person WHERE id = {}", person["id"])
    assert row["member_status"] == "member"
    changed = await db.fetch("SELECT action FROM audit_log WHERE object_id = {}", person["id"])
    assert {"action": "person.created"} in changed and {"action": "person.changed"} in changed


async def test_export_and_erasure_with_the_typed_word(client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client)
    rosa = await factory.person(leipzig["id"], first_name="Rosa", email="rosa@example.org")
    base = f"/app/orgs/{leipzig['id']}/people/{rosa['id']}"
    export = await client.get(f"{base}/export")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    ask = await client.get(f"{base}/erase")
    wrong = await client.post(f"{base}/erase", data={"confirm": "ja", "_csrf": csrf_of(ask.text)})
    assert wrong.status_code == 422 and await db.fetch("SELECT id FROM person") != []
    gone = await client.post(
        f"{base}/erase", data={"confirm": "LÖSCHEN", "_csrf": csrf_of(ask.text)}
    )
    assert gone.status_code == 303
    assert await db.fetch("SELECT id FROM person") == []


async def test_a_caller_sees_no_people_menu_and_no_people(client, factory):
    leipzig, _dresden, _user = await _organizer(factory, client, role="caller")
    start = await client.get(f"/app/orgs/{leipzig['id']}")
    assert f'href="/app/orgs/{leipzig["id"]}/people"' not in start.text
    assert (await client.get(f"/app/orgs/{leipzig['id']}/people")).status_code == 403


async def test_tags_are_added_and_removed_on_the_person_page(client, factory):
    leipzig, dresden, _user = await _organizer(factory, client)
    rosa = await factory.person(leipzig["id"], first_name="Rosa")
    base = f"/app/orgs/{leipzig['id']}/people/{rosa['id']}"
    page = await client.get(base)
    added = await client.post(
        f"{base}/tags", data={"add": "Infostand, Zeitung", "_csrf": csrf_of(page.text)}
    )
    assert added.status_code == 303
    shown = await client.get(base)
    assert "Infostand" in shown.text and "Zeitung" in shown.text
    removed = await client.post(
        f"{base}/tags", data={"remove": "Zeitung", "_csrf": csrf_of(shown.text)}
    )
    assert removed.status_code == 303
    api = await db.fetch(
        "SELECT t.name FROM person_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.person_id = {}",
        rosa["id"],
    )
    assert [row["name"] for row in api] == ["Infostand"]
    changed = await db.fetch(
        "SELECT action FROM audit_log WHERE object_id = {} AND action = 'person.changed'",
        rosa["id"],
    )
    assert len(changed) == 2
    too_long = await client.post(
        f"{base}/tags", data={"add": "x" * 500, "_csrf": csrf_of(shown.text)}
    )
    assert too_long.status_code == 422 and 'id="f-add-error"' in too_long.text
    other = await factory.person(dresden["id"], first_name="Fremd")
    hidden = await client.post(
        f"/app/orgs/{leipzig['id']}/people/{other['id']}/tags",
        data={"add": "x", "_csrf": csrf_of(shown.text)},
    )
    assert hidden.status_code == 404


async def test_module_panels_speak_the_pages_language(client, factory):
    from datetime import timedelta

    from core.tables import utcnow
    from plugins.events.tables import Event, Participation
    from plugins.linksaktiv.tables import Activist

    leipzig, _dresden, _user = await _organizer(factory, client)
    await factory.enable(leipzig["id"], "events", "linksaktiv")
    rosa = await factory.person(leipzig["id"], first_name="Rosa")
    start = utcnow() + timedelta(days=3)
    [event] = await Event.insert(
        Event(
            org=leipzig["id"],
            title="Infostand Connewitz",
            type="info_stand",
            start_at=start,
            end_at=start + timedelta(hours=2),
            state="published",
        )
    ).run()
    await Participation.insert(
        Participation(event=event["id"], person=rosa["id"], status="waiting")
    ).run()
    await Activist.insert(Activist(person=rosa["id"], status="confirmed", source="doors")).run()
    page = await client.get(f"/app/orgs/{leipzig['id']}/people/{rosa['id']}")
    assert page.status_code == 200
    assert "Infostand Connewitz" in page.text and "auf der Warteliste" in page.text
    assert "an der Haustür" in page.text and "bestätigt" in page.text
    assert "{'" not in page.text and "waiting" not in page.text  # no raw data


async def test_custom_fields_are_edited_with_their_labels_and_kinds(client, factory):
    from core.people.schemas import CustomFieldIn
    from core.people.tags import create_custom_field

    leipzig, _dresden, _user = await _organizer(factory, client)
    await create_custom_field(
        leipzig["id"],
        CustomFieldIn(key="ag", label="Arbeitsgruppe", kind="choice", choices=["Umwelt", "Miete"]),
    )
    await create_custom_field(
        leipzig["id"], CustomFieldIn(key="beitrag", label="Monatsbeitrag", kind="number")
    )
    await create_custom_field(
        leipzig["id"], CustomFieldIn(key="ehrenamt", label="Ehrenamt", kind="boolean")
    )
    rosa = await factory.person(leipzig["id"], first_name="Rosa", custom_fields='{"ag": "Miete"}')
    base = f"/app/orgs/{leipzig['id']}/people/{rosa['id']}"
    edit = await client.get(f"{base}/edit")
    assert "Arbeitsgruppe" in edit.text and '<option value="Miete" selected>' in edit.text
    form = {"first_name": "Rosa", "_csrf": csrf_of(edit.text)}
    bad = await client.post(
        f"{base}/edit", data={**form, "custom_fields.beitrag": "viel", "custom_fields.ag": "Miete"}
    )
    assert bad.status_code == 422 and 'id="f-custom_fields.beitrag-error"' in bad.text
    assert 'value="viel"' in bad.text
    saved = await client.post(
        f"{base}/edit",
        data={
            **form,
            "custom_fields.ag": "Umwelt",
            "custom_fields.beitrag": "12,50",
            "custom_fields.ehrenamt": "yes",
        },
    )
    assert saved.status_code == 303
    row = await db.fetch_one("SELECT custom_fields FROM person WHERE id = {}", rosa["id"])
    assert db.json_value(row["custom_fields"]) == {
        "ag": "Umwelt",
        "beitrag": 12.5,
        "ehrenamt": True,
    }
    page = await client.get(base)
    assert "Monatsbeitrag" in page.text and "Arbeitsgruppe" in page.text
    cleared = await client.post(f"{base}/edit", data={**form, "custom_fields.ag": "Umwelt"})
    assert cleared.status_code == 303
    row = await db.fetch_one("SELECT custom_fields FROM person WHERE id = {}", rosa["id"])
    assert db.json_value(row["custom_fields"]) == {"ag": "Umwelt"}
