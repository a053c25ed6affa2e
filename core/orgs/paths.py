"""The one rule for "this unit lies in that unit's subtree", in SQL and in Python.

A unit's materialized path lists its ancestors' ids and its own, each followed by a slash
(``/1/2/``), so a unit is in the subtree of another exactly when the other's path is a prefix
of its own: ``/1/2/`` holds ``/1/2/`` and ``/1/2/7/``, never ``/1/23/``. Every scope check goes
through these functions rather than spelling the comparison out again.
"""

from __future__ import annotations

from core import db

__all__ = [
    "ancestors_sql",
    "is_under",
    "path_under_sql",
    "subtree_ids",
    "subtree_sql",
    "subtrees_sql",
]


def is_under(path: str, root: str) -> bool:
    """Whether the unit at ``path`` is the unit at ``root`` or lies below it."""
    return path.startswith(root)


def path_under_sql(path: str, root: str) -> str:
    """SQL condition: the unit path ``path`` is ``root`` or lies below it; both are SQL
    expressions (e.g. ``h.path`` and ``c.path``)."""
    return f"substr({path}, 1, length({root})) = {root}"


def subtree_sql(column: str, org_path: str) -> tuple[str, list[object]]:
    """SQL condition and its arguments: the unit path in ``column`` is ``org_path`` or lies
    below it (the units visible from ``org_path``)."""
    return f"substr({column}, 1, {{}}) = {{}}", [len(org_path), org_path]


def subtrees_sql(column: str, roots: list[str]) -> tuple[str, list[object]]:
    """:func:`subtree_sql` for several roots: the unit path in ``column`` lies in any of their
    subtrees (``FALSE`` for none)."""
    conditions: list[str] = []
    args: list[object] = []
    for root in roots:
        condition, condition_args = subtree_sql(column, root)
        conditions.append(condition)
        args += condition_args
    return " OR ".join(conditions) or "FALSE", args


def ancestors_sql(column: str, org_path: str) -> tuple[str, list[object]]:
    """SQL condition and its argument: the unit path in ``column`` is ``org_path`` or lies
    above it (the units whose settings, assignments or senders reach ``org_path``)."""
    return path_under_sql("CAST({} AS TEXT)", column), [org_path]


async def subtree_ids(org_path: str) -> list[int]:
    """Ids of the unit with materialized ``org_path`` and every unit below it."""
    where, args = subtree_sql("path", org_path)
    rows = await db.fetch(f"SELECT id FROM org_unit WHERE {where}", *args)
    return [row["id"] for row in rows]
