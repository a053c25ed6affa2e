"""Every request's writes are one transaction: a refused request changes nothing.

The mechanism is tested through a throw-away module's routes (write, then refuse; caught
failures; an opted-out route), the refusals of core's own routes by comparing every table
before and after each of them.
"""

from __future__ import annotations

import types
from typing import Any

import pytest
from litestar import post

from core import Module, ModuleRoutes, db, hookimpl
from core.audit.services import record
from core.auth.services import assign_role
from core.orgs.tables import OrgUnit
from core.problems import Problem, invalid

AFTER_COMMIT: list[str] = []


async def _unit(name: str) -> None:
    await OrgUnit.insert(OrgUnit(name=name, kind="test", path=f"/{name}/")).run()


@post("/tx-test/refuse")
async def write_then_refuse() -> None:
    """Two writes (a loose statement, a block), then a refusal."""
    await _unit("loose")
    async with db.transaction():
        await _unit("block")
    db.after_commit(lambda: AFTER_COMMIT.append("refused"))
    raise invalid("name", "refused after writing")


@post("/tx-test/ok", status_code=200)
async def write_and_succeed() -> dict[str, Any]:
    """Reads hold no transaction; the first write begins it; a failed later block rolls back
    to its savepoint; a failed first statement leaves nothing behind."""
    await db.fetch("SELECT id FROM org_unit")
    before_write = db._current_transaction() is None
    try:
        async with db.transaction():
            await _unit("first-block-fails")
            raise RuntimeError("first block")
    except RuntimeError:
        pass
    still_none = db._current_transaction() is None
    await _unit("kept-1")
    try:
        async with db.transaction():
            await _unit("savepoint-rolled-back")
            raise RuntimeError("later block")
    except RuntimeError:
        pass
    async with db.transaction():
        await _unit("kept-2")
    db.after_commit(lambda: AFTER_COMMIT.append("committed"))
    return {"before_write": before_write, "still_none": still_none}


@post("/tx-test/own", opt={db.REQUEST_TRANSACTION: False})
async def opted_out() -> None:
    """A handler without the request's transaction: its write stands on its own."""
    await _unit("own")
    raise Problem(409, "conflict", "refused after its own commit")


@post("/tx-test/late-outside")
async def outside_after_write() -> None:
    """``outside_request`` after the first write would deadlock: refused loudly."""
    await _unit("late")
    with db.outside_request():
        await _unit("never")


@post("/tx-test/audited", status_code=200)
async def audited_read(refuse: bool = False) -> dict[str, Any]:
    """An audit row before any write waits for the answer; the reads after it hold no
    transaction; a later write takes the row along, in order."""
    await record("test.read", object_type="org_unit", object_id=1)
    outside = db._current_transaction() is None
    if refuse:
        raise invalid("refuse", "refused after the audit call")
    await _unit("written")
    await record("test.written", object_type="org_unit", object_id=2)
    return {"outside": outside}


@hookimpl
def register_module() -> Module:
    return Module(name="txtest", title="Transactions under test", version="0")


@hookimpl
def register_routes() -> ModuleRoutes:
    return ModuleRoutes(
        api=[write_then_refuse, write_and_succeed, opted_out, outside_after_write, audited_read]
    )


TX_PLUGIN = types.SimpleNamespace(
    register_module=register_module, register_routes=register_routes, __name__="txtest"
)


@pytest.fixture
def orga_plugins():
    AFTER_COMMIT.clear()
    return [TX_PLUGIN]


async def _names() -> set[str]:
    return {r["name"] for r in await db.fetch("SELECT name FROM org_unit WHERE kind = 'test'")}


async def test_a_refused_request_leaves_no_write_behind(client):
    response = await client.post("/api/tx-test/refuse")
    assert response.status_code == 422
    assert await _names() == set()
    assert AFTER_COMMIT == []


async def test_blocks_keep_their_own_all_or_nothing_inside_the_request(client):
    response = await client.post("/api/tx-test/ok")
    assert response.status_code == 200, response.text
    assert response.json() == {"before_write": True, "still_none": True}
    assert await _names() == {"kept-1", "kept-2"}
    assert AFTER_COMMIT == ["committed"]


async def test_audit_rows_wait_for_the_answer(client):
    assert (await client.post("/api/tx-test/audited?refuse=true")).status_code == 422
    assert not await db.fetch("SELECT id FROM audit_log WHERE action LIKE 'test.%'")
    response = await client.post("/api/tx-test/audited")
    assert response.json() == {"outside": True}
    rows = await db.fetch("SELECT action FROM audit_log WHERE action LIKE 'test.%' ORDER BY id")
    assert [r["action"] for r in rows] == ["test.read", "test.written"]
    assert await _names() == {"written"}


async def test_an_opted_out_handler_commits_on_its_own(client):
    response = await client.post("/api/tx-test/own")
    assert response.status_code == 409
    assert await _names() == {"own"}


async def test_outside_request_after_the_first_write_is_an_error_not_a_hang(client):
    response = await client.post("/api/tx-test/late-outside")
    assert response.status_code == 500
    assert await _names() == set()
    # the request's connection and (on SQLite) the write lock came back
    async with db.transaction():
        await _unit("afterwards")
    assert await _names() == {"afterwards"}


async def snapshot() -> dict[str, list[str]]:
    """Every row of every table, each table's rows in a fixed order."""
    if db.is_postgres():
        sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    tables = sorted(r["name"] for r in await db.fetch(sql))
    return {
        t: sorted(repr(sorted(r.items())) for r in await db.fetch(f"SELECT * FROM {t}"))
        for t in tables
    }


@pytest.fixture
async def refusal_tree(factory):
    root = await factory.org("Bund", kind="federal")
    state = await factory.org("Sachsen", kind="state", parent=root["id"])
    district = await factory.org("KV Leipzig", parent=state["id"])
    other = await factory.org("KV Dresden", parent=state["id"])
    district_admin = await factory.user("admin", district["id"])
    await assign_role(district_admin.id, other["id"], "viewer", by=None)
    root_admin = await factory.user("admin", root["id"])
    return {
        "root": root,
        "state": state,
        "district": district,
        "child": await factory.org("OV Süd", parent=district["id"]),
        "other": other,
        "district_admin": district_admin,
        "root_admin": root_admin,
    }


def refusals(t: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], Any, int]]:
    """(method, url, json, user, expected status) of requests core refuses, several of which
    wrote before they found the reason (the rename before the move)."""
    district, child = t["district"]["id"], t["child"]["id"]
    return [
        # rename, then a move below itself
        ("PATCH", f"/api/orgs/{district}", {"name": "X", "parent_id": child}, "root_admin", 409),
        # rename, then a parent that does not exist
        ("PATCH", f"/api/orgs/{district}", {"name": "X", "parent_id": 99999}, "root_admin", 422),
        # rename, then a parent the district admin sees but may not manage
        (
            "PATCH",
            f"/api/orgs/{child}",
            {"name": "X", "parent_id": t["other"]["id"]},
            "district_admin",
            403,
        ),
        # a member with a role that does not exist, for an address without an account
        (
            "POST",
            f"/api/orgs/{district}/members",
            {"email": "new@example.org", "role": "boss"},
            "district_admin",
            422,
        ),
        # a member by the id of a user the district admin does not see
        (
            "POST",
            f"/api/orgs/{district}/members",
            {"user_id": t["root_admin"].id, "role": "viewer"},
            "district_admin",
            422,
        ),
        # codes the root answers for, claimed by a district admin
        ("PUT", f"/api/orgs/{child}/postcodes", {"postal_codes": ["10115"]}, "district_admin", 403),
        ("PUT", f"/api/orgs/{child}/postcodes", {"postal_codes": ["1-0"]}, "district_admin", 422),
    ]


async def test_every_refusal_of_core_routes_changes_nothing(client, refusal_tree):
    t = refusal_tree
    for method, url, body, user, status in refusals(t):
        before = await snapshot()
        response = await client.request(method, url, json=body, headers=t[user].headers)
        assert response.status_code == status, (method, url, response.text)
        assert await snapshot() == before, (method, url, body)


async def test_import_upload_refused_for_its_mapping_keeps_no_import_row(client, refusal_tree):
    t = refusal_tree
    before = await snapshot()
    response = await client.post(
        f"/api/orgs/{t['district']['id']}/people/imports/",
        headers=t["root_admin"].headers,
        files={"file": ("leute.csv", b"Vorname;Nachname\nAnna;A\n", "text/csv")},
        data={"mapping": '{"Vorname": "no_such_field"}'},
    )
    assert response.status_code == 422, response.text
    assert await snapshot() == before


async def test_a_failed_login_still_counts(client, refusal_tree):
    """The one refusal that must write: the throttle rests on it (``outside_request``)."""
    before = await snapshot()
    response = await client.post(
        "/api/auth/login",
        json={"email": refusal_tree["root_admin"].email, "password": "wrong wrong wrong"},
    )
    assert response.status_code == 401
    after = await snapshot()
    changed = {t for t in after if after[t] != before[t]}
    assert changed == {"login_attempt", "audit_log"}
