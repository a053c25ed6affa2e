"""Org units (tree, create, move), per-unit modules and the audit log."""

from __future__ import annotations

from core import db


async def test_tree_shows_only_visible_units(client, factory):
    root = await factory.org("Bund", kind="federal")
    berlin = await factory.org("Berlin", kind="state", parent=root["id"])
    pankow = await factory.org("Pankow", parent=berlin["id"])
    await factory.org("Sachsen", kind="state", parent=root["id"])
    user = await factory.user("organizer", berlin["id"])
    tree = (await client.get("/api/orgs", headers=user.headers)).json()
    assert tree == [
        {
            "id": berlin["id"],
            "name": "Berlin",
            "kind": "state",
            "children": [
                {"id": pankow["id"], "name": "Pankow", "kind": "district", "children": []}
            ],
        }
    ]


async def test_create_and_move_a_unit_with_its_subtree(client, factory):
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    east = (
        await client.post(
            "/api/orgs",
            headers=admin.headers,
            json={"name": "Ost", "kind": "region", "parent_id": root["id"]},
        )
    ).json()
    west = (
        await client.post(
            "/api/orgs",
            headers=admin.headers,
            json={"name": "West", "kind": "region", "parent_id": root["id"]},
        )
    ).json()
    district = (
        await client.post(
            "/api/orgs",
            headers=admin.headers,
            json={"name": "KV", "kind": "district", "parent_id": east["id"]},
        )
    ).json()
    local = (
        await client.post(
            "/api/orgs",
            headers=admin.headers,
            json={"name": "OV", "kind": "Ortsverband", "parent_id": district["id"]},
        )
    ).json()
    assert local["path"] == f"/{root['id']}/{east['id']}/{district['id']}/{local['id']}/"
    moved = await client.patch(
        f"/api/orgs/{district['id']}", headers=admin.headers, json={"parent_id": west["id"]}
    )
    assert moved.status_code == 200
    assert moved.json()["path"] == f"/{root['id']}/{west['id']}/{district['id']}/"
    local_now = (await client.get(f"/api/orgs/{local['id']}", headers=admin.headers)).json()
    assert local_now["path"] == f"/{root['id']}/{west['id']}/{district['id']}/{local['id']}/"
    below_itself = await client.patch(
        f"/api/orgs/{east['id']}", headers=admin.headers, json={"parent_id": east["id"]}
    )
    assert below_itself.status_code == 409
    assert below_itself.json()["errors"][0]["field"] == "parent_id"


async def test_office_can_be_set_and_cleared(client, factory):
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    office = {"address": "Kleine Alexanderstr. 28, 10178 Berlin", "opening_hours": "Mo-Fr 10-18"}
    response = await client.patch(
        f"/api/orgs/{root['id']}", headers=admin.headers, json={"office": office}
    )
    assert response.json()["office"] == office
    response = await client.patch(
        f"/api/orgs/{root['id']}", headers=admin.headers, json={"office": None}
    )
    assert response.json()["office"] is None


async def test_module_on_for_one_district_off_for_its_sibling(client, factory):
    root = await factory.org("Bund", kind="federal")
    kv_a = await factory.org("KV A", parent=root["id"])
    kv_b = await factory.org("KV B", parent=root["id"])
    admin = await factory.user("admin", root["id"])
    url = "/api/orgs/{}/calling/assignments"
    off = await client.get(url.format(kv_a["id"]), headers=admin.headers)
    assert off.status_code == 404
    assert off.json()["type"] == "urn:orga:problem:module-disabled"
    switched = await client.put(
        f"/api/orgs/{kv_a['id']}/modules/calling", headers=admin.headers, json={"enabled": True}
    )
    assert switched.status_code == 200
    assert (await client.get(url.format(kv_a["id"]), headers=admin.headers)).status_code == 200
    sibling = await client.get(url.format(kv_b["id"]), headers=admin.headers)
    assert sibling.status_code == 404
    assert sibling.json()["type"] == "urn:orga:problem:module-disabled"
    states = (await client.get(f"/api/orgs/{kv_b['id']}/modules", headers=admin.headers)).json()
    assert {s["name"]: s["enabled"] for s in states}["calling"] is False
    # switched on at the root, off again for KV B: nearest setting wins
    await client.put(
        f"/api/orgs/{root['id']}/modules/calling", headers=admin.headers, json={"enabled": True}
    )
    await client.put(
        f"/api/orgs/{kv_b['id']}/modules/calling", headers=admin.headers, json={"enabled": False}
    )
    assert (await client.get(url.format(root["id"]), headers=admin.headers)).status_code == 200
    assert (await client.get(url.format(kv_b["id"]), headers=admin.headers)).status_code == 404
    unknown = await client.put(
        f"/api/orgs/{root['id']}/modules/petitions", headers=admin.headers, json={"enabled": True}
    )
    assert unknown.status_code == 404


async def test_audit_log_filters_and_pages(client, factory):
    root = await factory.org("Bund", kind="federal")
    kv = await factory.org("KV", parent=root["id"])
    other = await factory.org("KV other", parent=root["id"])
    admin = await factory.user("admin", root["id"])
    kv_admin = await factory.user("admin", kv["id"])
    for module in ("calling", "events", "mailings"):
        await client.put(
            f"/api/orgs/{kv['id']}/modules/{module}", headers=admin.headers, json={"enabled": True}
        )
    await client.put(
        f"/api/orgs/{other['id']}/modules/events", headers=admin.headers, json={"enabled": True}
    )
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "action": "module.enabled"} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get(f"/api/orgs/{kv['id']}/audit", headers=kv_admin.headers, params=params)
        ).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["detail"]["module"] for e in seen] == ["mailings", "events", "calling"]
    assert all(e["org_id"] == kv["id"] and e["user_id"] == admin.id for e in seen)
    by_user = await client.get(
        f"/api/orgs/{root['id']}/audit",
        headers=admin.headers,
        params={"user_id": admin.id, "action": "module.enabled"},
    )
    assert len(by_user.json()["items"]) == 4
    bad = await client.get(
        f"/api/orgs/{kv['id']}/audit", headers=kv_admin.headers, params={"cursor": "!!!"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


async def test_role_changes_are_audited(client, factory):
    root = await factory.org("Bund", kind="federal")
    admin = await factory.user("admin", root["id"])
    newcomer = await factory.user(None, None)
    await client.post(
        f"/api/orgs/{root['id']}/members",
        headers=admin.headers,
        json={"email": newcomer.email, "role": "caller"},
    )
    await client.delete(
        f"/api/orgs/{root['id']}/members/{newcomer.id}",
        headers=admin.headers,
        params={"role": "caller"},
    )
    rows = await db.fetch(
        "SELECT action, user_id, org_id, detail FROM audit_log "
        "WHERE action LIKE 'role.%' AND object_id = {} ORDER BY id",
        newcomer.id,
    )
    assert [(r["action"], r["user_id"], r["org_id"]) for r in rows] == [
        ("role.granted", admin.id, root["id"]),
        ("role.revoked", admin.id, root["id"]),
    ]


async def test_audit_log_filters_by_object_and_members_show_whether_active(client, factory):
    root = await factory.org("Bund", kind="federal")
    kv = await factory.org("KV", parent=root["id"])
    admin = await factory.user("admin", root["id"])
    caller = await factory.user("caller", root["id"], active=False)
    await client.patch(f"/api/orgs/{kv['id']}", headers=admin.headers, json={"name": "KV Neu"})
    await client.put(
        f"/api/orgs/{kv['id']}/modules/calling", headers=admin.headers, json={"enabled": True}
    )
    page = await client.get(
        f"/api/orgs/{root['id']}/audit",
        headers=admin.headers,
        params={"object_type": "org_unit", "object_id": kv["id"]},
    )
    assert [(e["action"], e["detail"]) for e in page.json()["items"]] == [
        ("org.changed", {"fields": ["name"]})
    ]
    members = await client.get(f"/api/orgs/{root['id']}/members", headers=admin.headers)
    assert {(m["user_id"], m["active"]) for m in members.json()["items"]} == {
        (admin.id, True),
        (caller.id, False),
    }
