"""The one subtree rule (core.orgs.paths): a unit sees itself and below, never a sibling
whose path merely starts with the same digits (``/1/2/`` against ``/1/23/``)."""

from __future__ import annotations

from core import db
from core.api import ancestors_sql, is_under, path_under_sql, subtree_ids, subtree_sql


async def _siblings_sharing_a_prefix(factory) -> tuple[dict, dict, dict]:
    """A root with children until one's id starts with another's (2 and 20, say), and a unit
    below the shorter one."""
    root = await factory.org("Bund", kind="federal")
    seen: dict[str, dict] = {}
    for _ in range(60):
        unit = await factory.org(parent=root["id"])
        digits = str(unit["id"])
        short = next((seen[s] for s in seen if digits.startswith(s)), None)
        if short is not None:
            below = await factory.org(parent=short["id"])
            return short, unit, below
        seen[digits] = unit
    raise AssertionError("no two sibling ids share a prefix")


async def _ids_where(condition: str, args: list[object]) -> set[int]:
    rows = await db.fetch(f"SELECT id FROM org_unit o WHERE {condition}", *args)
    return {row["id"] for row in rows}


async def test_a_unit_sees_itself_and_below_never_a_prefix_sibling(client, factory):
    short, long, below = await _siblings_sharing_a_prefix(factory)
    assert long["path"].startswith(short["path"].rstrip("/"))  # the trap: /1/2 vs /1/23

    assert set(await subtree_ids(short["path"])) == {short["id"], below["id"]}
    assert await _ids_where(*subtree_sql("o.path", short["path"])) == {short["id"], below["id"]}
    assert is_under(below["path"], short["path"]) and is_under(short["path"], short["path"])
    assert not is_under(long["path"], short["path"])
    assert not is_under(short["path"], long["path"])


async def test_the_units_above_a_path_are_its_ancestors_and_itself(client, factory):
    short, long, below = await _siblings_sharing_a_prefix(factory)
    root_id = int(short["path"].split("/")[1])

    above = await _ids_where(*ancestors_sql("o.path", below["path"]))
    assert above == {root_id, short["id"], below["id"]}
    assert await _ids_where(*ancestors_sql("o.path", long["path"])) == {root_id, long["id"]}


async def test_path_under_compares_two_columns(client, factory):
    short, _, below = await _siblings_sharing_a_prefix(factory)
    rows = await db.fetch(
        "SELECT c.id AS inner_id FROM org_unit c JOIN org_unit a ON "
        f"{path_under_sql('c.path', 'a.path')} WHERE a.id = {{}}",
        short["id"],
    )
    assert {row["inner_id"] for row in rows} == {short["id"], below["id"]}
