"""Module switches along the tree, for public forms and pages.

A module is on for a unit when the nearest setting at or above the unit says so (see
:func:`core.orgs.services.module_states`). A public form of a module files people only into
units where the module is on: :func:`receiving_unit` starts at the unit the postal code (or a
signed link) points to and walks up to the nearest unit where the module is on; where there is
none, the form answers 404.
"""

from __future__ import annotations

from typing import Any

from core import db
from core.context import current_runtime
from core.orgs.paths import ancestors_sql, is_under, path_under_sql, subtree_sql
from core.orgs.postcodes import resolve_unit
from core.orgs.services import module_states
from core.problems import N_, Problem

__all__ = [
    "enabled_subtree_ids",
    "module_enabled",
    "module_on_anywhere",
    "nearest_enabled_unit",
    "receiving_unit",
]

_CHAIN_SQL = (
    "SELECT a.id AS id, m.enabled AS enabled FROM org_unit u "
    f"JOIN org_unit a ON {path_under_sql('u.path', 'a.path')} "
    "LEFT JOIN org_module m ON m.org_id = a.id AND m.module = {} "
    "WHERE u.id = {} ORDER BY length(a.path)"
)


def _installed(module: str) -> bool:
    return module in current_runtime().registry.modules


async def module_enabled(name: str, org_path: str) -> bool:
    """Whether module ``name`` is installed here and switched on for the unit at ``org_path``."""
    if not _installed(name):
        return False
    return (await module_states(org_path, [name]))[name]


def _module_disabled(module: str) -> Problem:
    """The 404 a public page of ``module`` answers where the module is off."""
    return Problem(
        404,
        "module-disabled",
        f"The module '{module}' is not enabled here.",
        title=N_("Module disabled"),
    )


async def module_on_anywhere(module: str) -> bool:
    """Whether ``module`` is installed and on for at least one unit (a unit with an "on"
    setting is on itself, so one look at the switch table tells)."""
    if not _installed(module):
        return False
    row = await db.fetch_one(
        "SELECT 1 AS one FROM org_module WHERE module = {} AND enabled LIMIT 1", module
    )
    return row is not None


async def nearest_enabled_unit(module: str, org_id: int) -> int | None:
    """The unit nearest to ``org_id`` on its path to the root (``org_id`` itself first) where
    ``module`` is on; ``None`` when it is off all the way up or not installed (one query)."""
    if not _installed(module):
        return None
    found, state = None, False
    for row in await db.fetch(_CHAIN_SQL, module, org_id):  # root first
        if row["enabled"] is not None:
            state = bool(row["enabled"])
        if state:
            found = row["id"]
    return found


async def receiving_unit(
    module: str, postal_code: str | None, source_org_id: int | None = None
) -> int:
    """The unit that takes in a person from a public form of ``module``.

    The candidates, in order: the unit covering ``postal_code``, the unit of a signed link
    (``source_org_id``), the root. The first candidate with a unit on its way up where the
    module is on wins, and that nearest unit receives the person.

    Raises:
        Problem: 404 ``module-disabled`` when no candidate has such a unit (or no unit exists).
    """
    candidates = [await resolve_unit(postal_code), source_org_id]
    if candidates == [None, None]:
        root = await db.fetch_one(
            "SELECT id FROM org_unit WHERE parent_id IS NULL ORDER BY id LIMIT 1"
        )
        candidates.append(root["id"] if root else None)
    for candidate in candidates:
        if candidate is not None:
            unit = await nearest_enabled_unit(module, candidate)
            if unit is not None:
                return unit
    raise _module_disabled(module)


async def enabled_subtree_ids(module: str, org_path: str) -> list[int]:
    """Ids of the units of the subtree at ``org_path`` where ``module`` is on (one query)."""
    if not _installed(module):
        return []
    below, below_args = subtree_sql("u.path", org_path)
    above, above_args = ancestors_sql("u.path", org_path)
    rows: list[dict[str, Any]] = await db.fetch(
        "SELECT u.id AS id, u.path AS path, m.enabled AS enabled FROM org_unit u "
        "LEFT JOIN org_module m ON m.org_id = u.id AND m.module = {} "
        f"WHERE {below} OR {above} ORDER BY length(u.path), u.path",
        module,
        *below_args,
        *above_args,
    )
    state: dict[str, bool] = {}
    ids = []
    for row in rows:  # parents before children
        parent = row["path"][: row["path"].rstrip("/").rfind("/") + 1]
        on = state.get(parent, False) if row["enabled"] is None else bool(row["enabled"])
        state[row["path"]] = on
        if on and is_under(row["path"], org_path):
            ids.append(row["id"])
    return ids
