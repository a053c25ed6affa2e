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


@hookimpl
def register_module() -> Module:
    return Module(name="txtest", title="Transactions under test", version="0")


@hookimpl
def register_routes() -> ModuleRoutes:
    return ModuleRoutes(api=[write_then_refuse, write_and_succeed, opted_out, outside_after_write])


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
