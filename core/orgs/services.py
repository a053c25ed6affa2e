"""Org unit services: create, move (paths of the subtree in one transaction), module switches.

The ``…_as`` functions and :func:`switch_module` are the operations of the API and the
console: they check what the acting user may do beyond the route's guard and write the audit
row; the plain ones (:func:`create_unit`, :func:`set_module`…) are their building blocks for
set-up code (the operator, the demo, tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import db
from core.audit.services import record
from core.cache import cached, drop_cached
from core.context import current_runtime
from core.orgs.coverage import check_move
from core.orgs.paths import ancestors_sql, is_under, subtree_ids, subtree_sql, subtrees_sql
from core.orgs.tables import OrgModule, OrgUnit
from core.problems import N_, conflict, forbidden, invalid, not_found
from core.tables import utcnow

if TYPE_CHECKING:
    from core.auth.actor import Actor

__all__ = [
    "change_unit_as",
    "create_unit",
    "create_unit_as",
    "get_unit",
    "module_settings",
    "module_states",
    "move_unit",
    "set_module",
    "switch_module",
    "unit_overview",
    "update_unit",
    "visible_units",
]


async def get_unit(org_id: int) -> dict[str, Any] | None:
    """One unit as a dict, or ``None``."""
    return await OrgUnit.select().where(OrgUnit.id == org_id).first().run()


async def create_unit(name: str, kind: str, parent_id: int | None) -> dict[str, Any]:
    """Create a unit under ``parent_id`` (``None`` for a root) and set its path."""
    async with db.transaction():
        parent_path = "/"
        if parent_id is not None:
            parent = await get_unit(parent_id)
            if parent is None:
                raise invalid("parent_id", N_("no such org unit"))
            parent_path = parent["path"]
        rows = await OrgUnit.insert(OrgUnit(name=name, kind=kind, parent=parent_id, path="")).run()
        unit_id = rows[0]["id"]
        path = f"{parent_path}{unit_id}/"
        await OrgUnit.update({OrgUnit.path: path}).where(OrgUnit.id == unit_id).run()
    drop_cached("org_unit")
    unit = await get_unit(unit_id)
    assert unit is not None
    return unit


async def update_unit(org_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Change a unit's plain fields (name, kind, office)."""
    if values:
        await OrgUnit.update(values).where(OrgUnit.id == org_id).run()
        drop_cached("org_unit")
    unit = await get_unit(org_id)
    if unit is None:
        raise not_found("org unit")
    return unit


async def move_unit(org_id: int, new_parent_id: int) -> dict[str, Any]:
    """Move a unit under another parent; the paths of its whole subtree change together. Its
    postal codes must stay inside the new parent's coverage and apart from other branches."""
    async with db.transaction():
        unit = await get_unit(org_id)
        parent = await get_unit(new_parent_id)
        if unit is None:
            raise not_found("org unit")
        if parent is None:
            raise invalid("parent_id", N_("no such org unit"))
        old_path = unit["path"]
        if is_under(parent["path"], old_path):
            raise conflict(N_("A unit cannot move below itself."), field="parent_id")
        await check_move(org_id, new_parent_id)
        new_path = f"{parent['path']}{org_id}/"
        moving, moving_args = subtree_sql("path", old_path)
        await db.execute(
            "UPDATE org_unit SET path = CAST({} AS TEXT) || substr(path, {}), updated_at = {} "
            f"WHERE {moving}",
            new_path,
            len(old_path) + 1,
            utcnow(),
            *moving_args,
        )
        await OrgUnit.update({OrgUnit.parent: new_parent_id}).where(OrgUnit.id == org_id).run()
    drop_cached("org_unit")
    moved = await get_unit(org_id)
    assert moved is not None
    return moved


async def visible_units(roots: list[str]) -> list[dict[str, Any]]:
    """All units in the subtrees rooted at ``roots`` (paths), ordered by path."""
    if not roots:
        return []
    where, args = subtrees_sql("path", roots)
    return await db.fetch(
        f"SELECT id, name, kind, parent_id, path FROM org_unit WHERE {where} ORDER BY path",
        *args,
    )


async def module_settings(org_path: str, installed: list[str]) -> dict[str, dict[str, Any]]:
    """Per installed module: whether it is on for the unit at ``org_path`` (``enabled``) and
    where that comes from: ``org_id`` and ``org_name`` of the unit with the nearest setting at
    or above it (``None`` when nothing is set: off). Every console page and module route asks
    this, so each process keeps the answer until a unit or a module switch changes."""
    settings = await cached(
        "module_settings",
        ("org_module", "org_unit"),
        (org_path, tuple(installed)),
        lambda: _module_settings(org_path, installed),
    )
    return {name: dict(setting) for name, setting in settings.items()}


async def _module_settings(org_path: str, installed: list[str]) -> dict[str, dict[str, Any]]:
    above, args = ancestors_sql("a.path", org_path)
    rows = await db.fetch(
        "SELECT m.module AS module, m.enabled AS enabled, a.id AS org_id, a.name AS org_name, "
        "length(a.path) AS depth FROM org_module m JOIN org_unit a ON a.id = m.org_id "
        f"WHERE {above} ORDER BY depth",
        *args,
    )
    settings: dict[str, dict[str, Any]] = {
        name: {"enabled": False, "org_id": None, "org_name": None} for name in installed
    }
    for row in rows:  # nearest last: it wins
        if row["module"] in settings:
            settings[row["module"]] = {
                "enabled": bool(row["enabled"]),
                "org_id": row["org_id"],
                "org_name": row["org_name"],
            }
    return settings


async def module_states(org_path: str, installed: list[str]) -> dict[str, bool]:
    """Whether each module is enabled for the unit at ``org_path`` (nearest setting wins)."""
    settings = await module_settings(org_path, installed)
    return {name: setting["enabled"] for name, setting in settings.items()}


async def set_module(org_id: int, module: str, enabled: bool) -> None:
    """Switch a module on or off for a unit (and, unless overridden below, its subtree)."""
    async with db.transaction():
        existing = (
            await OrgModule.select(OrgModule.id)
            .where((OrgModule.org == org_id) & (OrgModule.module == module))
            .first()
            .run()
        )
        if existing:
            await (
                OrgModule.update({OrgModule.enabled: enabled})
                .where(OrgModule.id == existing["id"])
                .run()
            )
        else:
            await OrgModule.insert(OrgModule(org=org_id, module=module, enabled=enabled)).run()
    drop_cached("org_module")


async def switch_module(org_id: int, module: str, enabled: bool) -> str:
    """Switch an installed module on or off for a unit and its subtree (audited); returns the
    module's title.

    Raises:
        Problem: 404 when no module of that name is installed.
    """
    loaded = current_runtime().registry.modules.get(module)
    if loaded is None:
        raise not_found("module")
    await set_module(org_id, module, enabled)
    await record(
        "module.enabled" if enabled else "module.disabled",
        object_type="module",
        org_id=org_id,
        detail={"module": module},
    )
    return loaded.info.title


async def _managed_parent(actor: Actor, parent_id: int) -> dict[str, Any]:
    """The unit ``parent_id`` when the actor manages units there (422 when not visible, 403
    without ``orgs.manage``)."""
    parent = await get_unit(parent_id)
    if parent is None or not actor.sees(parent["path"]):
        raise invalid("parent_id", N_("no such org unit"))
    if not actor.can("orgs.manage", parent["path"]):
        raise forbidden("orgs.manage")
    return parent


async def create_unit_as(actor: Actor, name: str, kind: str, parent_id: int) -> dict[str, Any]:
    """Create a unit below ``parent_id`` for the actor, who needs ``orgs.manage`` there
    (audited ``org.created``).

    Raises:
        Problem: 422 naming ``parent_id`` for a parent the actor does not see, 403 without
            the permission there.
    """
    await _managed_parent(actor, parent_id)
    unit = await create_unit(name, kind, parent_id)
    await record("org.created", object_type="org_unit", object_id=unit["id"], org_id=parent_id)
    return unit


async def change_unit_as(
    actor: Actor, org_id: int, values: dict[str, Any], parent_id: int | None = None
) -> dict[str, Any]:
    """Change a unit's ``values`` (name, kind, office; audited ``org.changed``) and, given a
    ``parent_id``, move it there (audited ``org.moved``). The caller has checked
    ``orgs.manage`` on the unit; a move needs it on the new parent too.

    Raises:
        Problem: 422/409 naming ``parent_id`` for a parent the actor does not see or that
            breaks the tree or the postal-code rules, 403 without the permission there.
    """
    unit = await update_unit(org_id, values)
    if values:
        await record(
            "org.changed",
            object_type="org_unit",
            object_id=org_id,
            org_id=org_id,
            detail={"fields": sorted(values)},
        )
    if parent_id is not None and parent_id != unit["parent_id"]:
        await _managed_parent(actor, parent_id)
        unit = await move_unit(org_id, parent_id)
        await record("org.moved", object_type="org_unit", object_id=org_id, org_id=parent_id)
    return unit


async def unit_overview(org_id: int, org_path: str) -> dict[str, Any]:
    """A unit's start page data: its direct subunits and how many people and members live in
    its subtree. The counts read every person of the subtree (a million at the top of a
    party), so each process keeps them for up to 30 seconds (``core.cache``; off on SQLite,
    where counting costs no round trip)."""
    children = await db.fetch(
        "SELECT id, name, kind FROM org_unit WHERE parent_id = {} ORDER BY name", org_id
    )
    counts = await cached("unit_counts", (), org_path, lambda: _people_counts(org_path))
    return {"children": children, **counts}


async def _people_counts(org_path: str) -> dict[str, int]:
    ids = await subtree_ids(org_path)
    marks = ", ".join(["{}"] * len(ids))
    counts = await db.fetch_one(
        "SELECT COUNT(*) AS people, "
        "COALESCE(SUM(CASE WHEN member_status = 'member' THEN 1 ELSE 0 END), 0) AS members "
        f"FROM person WHERE home_org_id IN ({marks})",
        *ids,
    )
    return {"people": int(counts["people"]), "members": int(counts["members"])}
