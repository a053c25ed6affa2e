"""Duplicates and merging: fields chosen, lists united, modules told, one transaction."""

from __future__ import annotations

import types

import pytest

from core import db, hookimpl

MOVED: list[tuple[int, int]] = []


@hookimpl
def register_module():
    from core import Module

    return Module(name="mergewatch", title="Merge watcher")


@hookimpl
async def people_merged(kept_id, merged_id):
    MOVED.append((kept_id, merged_id))


@pytest.fixture
def orga_plugins():
    MOVED.clear()
    return [
        types.SimpleNamespace(
            register_module=register_module, people_merged=people_merged, __name__="mergewatch"
        )
    ]


async def make(client, org, headers, **fields):
    response = await client.post(f"/api/orgs/{org}/people/", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_duplicates_are_grouped_by_reason(client, factory):
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    a = await make(client, root["id"], admin.headers, last_name="Eins", email="same@example.org")
    b = await make(
        client,
        root["id"],
        admin.headers,
        last_name="Zwei",
        email="same@example.org",
        phones=["0301111111"],
    )
    c = await make(client, root["id"], admin.headers, last_name="Drei", phones=["030 1111111"])
    d = await make(
        client, root["id"], admin.headers, first_name="Rosa", last_name="Rot", postal_code="10115"
    )
    e = await make(
        client, root["id"], admin.headers, first_name="rosa ", last_name="ROT", postal_code="10115"
    )
    await make(client, root["id"], admin.headers, last_name="Allein", email="solo@example.org")
    pages, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get(
                f"/api/orgs/{root['id']}/people/duplicates", params=params, headers=admin.headers
            )
        ).json()
        pages += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [(g["reason"], g["person_ids"]) for g in pages] == [
        ("email", [a["id"], b["id"]]),
        ("phone", [b["id"], c["id"]]),
        ("name_postal_code", [d["id"], e["id"]]),
    ]


async def test_a_family_name_and_postal_code_alone_are_no_duplicate(client, factory):
    """Issue #22: a street of Müllers was one group of hundreds; the first name counts."""
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    for first in ("Anna", "Bernd", "Carla", "Dieter", "Emil", "Frieda"):
        await make(
            client,
            root["id"],
            admin.headers,
            first_name=first,
            last_name="Müller",
            postal_code="10115",
        )
    twin = await make(
        client,
        root["id"],
        admin.headers,
        first_name="ANNA",
        last_name="müller",
        postal_code="10115",
    )
    other_code = await make(
        client,
        root["id"],
        admin.headers,
        first_name="Bernd",
        last_name="Müller",
        postal_code="04109",
    )
    page = (
        await client.get(f"/api/orgs/{root['id']}/people/duplicates", headers=admin.headers)
    ).json()
    groups = [(g["reason"], len(g["person_ids"])) for g in page["items"]]
    assert groups == [("name_postal_code", 2)]
    [group] = page["items"]
    assert twin["id"] in group["person_ids"] and other_code["id"] not in group["person_ids"]


async def test_merge_unites_and_moves_everything(client, factory):
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    kept = await make(
        client,
        root["id"],
        admin.headers,
        first_name="Rosa",
        last_name="Rot",
        email="rosa@example.org",
        tags=["Miete"],
        phones=["0301111111"],
        consents=[{"channel": "email", "status": "granted", "source": "web_form"}],
    )
    other = await make(
        client,
        root["id"],
        admin.headers,
        first_name="Rosalie",
        last_name="Rot",
        city="Leipzig",
        tags=["Pflege"],
        phones=["0302222222"],
        member_status="member",
        consents=[{"channel": "phone", "status": "granted", "source": "call"}],
    )
    response = await client.post(
        f"/api/orgs/{root['id']}/people/merge",
        headers=admin.headers,
        json={
            "kept_id": kept["id"],
            "merged_ids": [other["id"]],
            "overrides": {"first_name": other["id"], "member_status": other["id"]},
        },
    )
    assert response.status_code == 201, response.text
    merged = response.json()
    assert merged["first_name"] == "Rosalie"
    assert merged["member_status"] == "member"
    assert merged["city"] == "Leipzig"  # empty on kept, filled from the merged person
    assert merged["email"] == "rosa@example.org"
    assert merged["tags"] == ["Miete", "Pflege"]
    assert merged["phones"] == ["+49301111111", "+49302222222"]
    assert {c["channel"] for c in merged["consents"]} == {"email", "phone"}
    assert MOVED == [(kept["id"], other["id"])]
    gone = await client.get(f"/api/orgs/{root['id']}/people/{other['id']}", headers=admin.headers)
    assert gone.status_code == 404
    rows = await db.fetch("SELECT detail FROM audit_log WHERE action = 'person.merged'")
    assert len(rows) == 1


async def test_failed_merge_changes_nothing(client, factory):
    root = await factory.org("Bund", kind="federal")
    elsewhere = await factory.org("Anders", kind="federal")
    admin = await factory.user("admin", root["id"])
    kept = await make(client, root["id"], admin.headers, last_name="A")
    stranger = await factory.person(elsewhere["id"], last_name="Fremd")
    response = await client.post(
        f"/api/orgs/{root['id']}/people/merge",
        headers=admin.headers,
        json={"kept_id": kept["id"], "merged_ids": [stranger["id"]]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "merged_ids"
    assert await db.fetch_one("SELECT id FROM person WHERE id = {}", stranger["id"])
    bad_field = await client.post(
        f"/api/orgs/{root['id']}/people/merge",
        headers=admin.headers,
        json={
            "kept_id": kept["id"],
            "merged_ids": [kept["id"] + 99],
            "overrides": {"password": kept["id"]},
        },
    )
    assert bad_field.json()["errors"][0]["field"] == "overrides.password"
    assert MOVED == []
