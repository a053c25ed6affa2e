"""People: records, phones in E.164, search, filters, keyset pages, scope, consent, tags."""

from __future__ import annotations

import types

import pytest

from core import db, hookimpl


@pytest.fixture
async def tree(client, factory):
    root = await factory.org("Bund", kind="federal")
    kv_a = await factory.org("KV A", parent=root["id"])
    kv_b = await factory.org("KV B", parent=root["id"])
    return {"root": root["id"], "a": kv_a["id"], "b": kv_b["id"]}


async def create(client, org, headers, **fields):
    response = await client.post(f"/api/orgs/{org}/people/", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_normalizes_phone_and_email_and_finds_by_them(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    person = await create(
        client,
        tree["a"],
        admin.headers,
        first_name="Rosa",
        last_name="Lux",
        email="Rosa.Lux@Example.ORG",
        phones=["030 1234567", "+49 (0) 170 1234567"],
        postal_code="10178",
        member_status="member",
    )
    assert person["phones"] == ["+49301234567", "+491701234567"]
    assert person["email"] == "rosa.lux@example.org"
    assert person["home_org_id"] == tree["a"]
    for q in (
        "+49301234567",
        "030 1234567",
        "rosa.lux@",
        "ROSA.LUX@example.org",
        "lux",
        "Rosa L",
        "1017",
    ):
        page = await client.get(
            f"/api/orgs/{tree['root']}/people/", params={"q": q}, headers=admin.headers
        )
        assert [p["id"] for p in page.json()["items"]] == [person["id"]], q
    none = await client.get(
        f"/api/orgs/{tree['root']}/people/", params={"q": "0301234568"}, headers=admin.headers
    )
    assert none.json()["items"] == []


async def test_bad_phone_and_email_name_the_field(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    bad_phone = await client.post(
        f"/api/orgs/{tree['a']}/people/",
        headers=admin.headers,
        json={"last_name": "X", "phones": ["030 1234567", "abc"]},
    )
    assert bad_phone.status_code == 422
    assert bad_phone.json()["errors"][0]["field"] == "phones[1]"
    bad_mail = await client.post(
        f"/api/orgs/{tree['a']}/people/",
        headers=admin.headers,
        json={"last_name": "X", "email": "not-an-address"},
    )
    assert bad_mail.json()["errors"][0]["field"] == "email"
    bad_status = await client.post(
        f"/api/orgs/{tree['a']}/people/", headers=admin.headers, json={"member_status": "vip"}
    )
    assert bad_status.json()["errors"][0]["field"] == "member_status"


async def test_scope_kv_a_cannot_see_kv_b(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    organizer_a = await factory.user("organizer", tree["a"])
    in_b = await create(client, tree["b"], admin.headers, last_name="Bauer")
    in_a = await create(client, tree["a"], admin.headers, last_name="Arendt")
    for org in (tree["a"], tree["b"]):
        response = await client.get(
            f"/api/orgs/{org}/people/{in_b['id']}", headers=organizer_a.headers
        )
        assert response.status_code == 404
    listing = await client.get(f"/api/orgs/{tree['a']}/people/", headers=organizer_a.headers)
    assert [p["id"] for p in listing.json()["items"]] == [in_a["id"]]
    patch = await client.patch(
        f"/api/orgs/{tree['a']}/people/{in_b['id']}",
        headers=organizer_a.headers,
        json={"last_name": "Hacked"},
    )
    assert patch.status_code == 404
    moved = await client.post(
        f"/api/orgs/{tree['a']}/people/",
        headers=organizer_a.headers,
        json={"last_name": "Smuggled", "home_org_id": tree["b"]},
    )
    assert moved.status_code == 422


async def test_keyset_pages_cover_everyone_once(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    for n in range(23):
        await factory.person(tree["a"] if n % 2 else tree["b"], last_name=f"P{n}")
    seen, cursor = [], None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get(
                f"/api/orgs/{tree['root']}/people/", params=params, headers=admin.headers
            )
        ).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 23
    assert seen == sorted(seen)


async def test_filters_by_status_and_tag(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    member = await create(
        client,
        tree["a"],
        admin.headers,
        last_name="M",
        member_status="member",
        tags=["Mietenwahnsinn", "Pflege"],
    )
    await create(
        client,
        tree["a"],
        admin.headers,
        last_name="S",
        member_status="sympathizer",
        tags=["Pflege"],
    )
    by_status = await client.get(
        f"/api/orgs/{tree['a']}/people/", params={"member_status": "member"}, headers=admin.headers
    )
    assert [p["id"] for p in by_status.json()["items"]] == [member["id"]]
    by_tag = await client.get(
        f"/api/orgs/{tree['a']}/people/", params={"tag": "Pflege"}, headers=admin.headers
    )
    assert len(by_tag.json()["items"]) == 2
    assert member["tags"] == ["Mietenwahnsinn", "Pflege"]


async def test_patch_replaces_lists_and_appends_consent_history(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    person = await create(
        client,
        tree["a"],
        admin.headers,
        last_name="K",
        phones=["0301111111"],
        consents=[
            {
                "channel": "email",
                "status": "granted",
                "source": "web_form",
                "wording": "Ja, schreibt mir.",
            }
        ],
    )
    assert [(c["channel"], c["status"]) for c in person["consents"]] == [("email", "granted")]
    url = f"/api/orgs/{tree['a']}/people/{person['id']}"
    changed = (
        await client.patch(
            url,
            headers=admin.headers,
            json={
                "first_name": "Karl",
                "phones": ["0302222222"],
                "tags": ["Frieden"],
                "consents": [{"channel": "email", "status": "withdrawn", "source": "call"}],
            },
        )
    ).json()
    assert changed["phones"] == ["+49302222222"]
    assert changed["tags"] == ["Frieden"]
    assert [(c["channel"], c["status"]) for c in changed["consents"]] == [("email", "withdrawn")]
    history = await db.fetch(
        "SELECT status, source, wording FROM consent_event WHERE person_id = {} ORDER BY id",
        person["id"],
    )
    assert [(h["status"], h["source"]) for h in history] == [
        ("granted", "web_form"),
        ("withdrawn", "call"),
    ]
    assert history[0]["wording"] == "Ja, schreibt mir."
    found = await client.get(
        f"/api/orgs/{tree['a']}/people/", params={"q": "karl"}, headers=admin.headers
    )
    assert [p["id"] for p in found.json()["items"]] == [person["id"]]


async def test_custom_fields_are_defined_per_unit_and_checked(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    field = await client.post(
        f"/api/orgs/{tree['a']}/people/custom-fields",
        headers=admin.headers,
        json={"key": "shirt", "label": "T-Shirt", "kind": "choice", "choices": ["S", "M", "L"]},
    )
    assert field.status_code == 201
    ok = await create(client, tree["a"], admin.headers, last_name="T", custom_fields={"shirt": "M"})
    assert ok["custom_fields"] == {"shirt": "M"}
    wrong = await client.post(
        f"/api/orgs/{tree['a']}/people/",
        headers=admin.headers,
        json={"custom_fields": {"shirt": "XXL"}},
    )
    assert wrong.json()["errors"][0]["field"] == "custom_fields.shirt"
    elsewhere = await client.post(
        f"/api/orgs/{tree['b']}/people/",
        headers=admin.headers,
        json={"custom_fields": {"shirt": "M"}},
    )
    assert elsewhere.status_code == 422  # not defined for KV B


async def test_a_person_form_lists_the_fields_of_the_home_unit_and_above(client, factory, tree):
    """``tags.custom_fields_for``: what the console's person form offers is what the API
    lists at the unit (defined there or above), never a sibling unit's."""
    from core.people.tags import custom_fields_for

    admin = await factory.user("admin", tree["root"])
    for org, key in ((tree["root"], "since"), (tree["a"], "shirt"), (tree["b"], "bike")):
        kind = {"since": "date", "shirt": "text", "bike": "boolean"}[key]
        body = {"key": key, "label": key.title(), "kind": kind}
        made = await client.post(
            f"/api/orgs/{org}/people/custom-fields", headers=admin.headers, json=body
        )
        assert made.status_code == 201, made.text
    listed = await client.get(f"/api/orgs/{tree['a']}/people/custom-fields", headers=admin.headers)
    form = await custom_fields_for(tree["a"])
    assert [f.key for f in form] == [f["key"] for f in listed.json()["items"]] == ["since", "shirt"]
    assert [(f.org_id, f.kind) for f in form] == [(tree["root"], "date"), (tree["a"], "text")]
    assert [f.key for f in await custom_fields_for(tree["root"])] == ["since"]


@hookimpl
def register_module():
    from core import Module

    return Module(name="summarizer", title="Summary test")


@hookimpl
async def person_summary(person_id, org_id):
    return {"calls": 3, "person": person_id}


SUMMARY_PLUGIN = types.SimpleNamespace(
    register_module=register_module, person_summary=person_summary, __name__="summarizer"
)


class TestDetail:
    @pytest.fixture
    def orga_plugins(self):
        return [SUMMARY_PLUGIN]

    async def test_detail_has_module_summaries_and_is_audited(self, client, factory, tree):
        admin = await factory.user("admin", tree["root"])
        person = await create(client, tree["a"], admin.headers, last_name="D")
        detail = await client.get(
            f"/api/orgs/{tree['a']}/people/{person['id']}", headers=admin.headers
        )
        assert detail.json()["summaries"] == {"summarizer": {"calls": 3, "person": person["id"]}}
        reads = await db.fetch(
            "SELECT user_id, object_id, org_id FROM audit_log WHERE action = 'person.read'"
        )
        assert [(r["user_id"], r["object_id"], r["org_id"]) for r in reads] == [
            (admin.id, person["id"], tree["a"])
        ]


async def test_phone_flag_follows_every_phone_change(client, factory, tree):
    admin = await factory.user("admin", tree["root"])
    person = await create(client, tree["a"], admin.headers, last_name="F", phones=["0301234567"])

    async def flag(person_id):
        return bool(
            (await db.fetch_one("SELECT has_phone FROM person WHERE id = {}", person_id))[
                "has_phone"
            ]
        )

    assert await flag(person["id"])
    url = f"/api/orgs/{tree['a']}/people/{person['id']}"
    await client.patch(url, json={"phones": []}, headers=admin.headers)
    assert not await flag(person["id"])
    other = await create(client, tree["a"], admin.headers, last_name="G", phones=["0307654321"])
    merged = await client.post(
        f"/api/orgs/{tree['a']}/people/merge",
        headers=admin.headers,
        json={"kept_id": person["id"], "merged_ids": [other["id"]]},
    )
    assert merged.status_code == 201
    assert await flag(person["id"])
    segment = {"filters": [{"type": "has_phone"}]}
    preview = await client.post(
        f"/api/orgs/{tree['a']}/segments/preview", json=segment, headers=admin.headers
    )
    assert preview.json()["count"] == 1
