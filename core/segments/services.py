"""Saved segments: keep, redefine and delete them, checked against the saved segments they
include (visible from the unit, no cycles) and those that include them."""

from __future__ import annotations

from typing import Any

import msgspec

from core import db
from core.audit.services import record, record_list
from core.orgs.paths import ancestors_sql
from core.people.services import subtree_ids
from core.problems import conflict
from core.segments.compiler import check_segment, count_and_sample
from core.segments.tables import SavedSegment

__all__ = [
    "create_saved",
    "delete_saved",
    "preview_segment",
    "update_saved",
    "visible_saved",
]


async def preview_segment(
    request: Any, actor: Any, org_id: int, org_path: str, segment: Any
) -> tuple[int, list[dict[str, Any]]]:
    """How many people ``segment`` matches in the subtree of unit ``org_id`` (at ``org_path``)
    and the first ten (:func:`core.segments.compiler.count_and_sample`), audited as
    ``segments.previewed`` with the definition and the ids shown (written after the answer).
    """
    count, rows = await count_and_sample(segment, org_path, field="")
    filters = {"segment": msgspec.to_builtins(segment)}
    record_list(request, "segments.previewed", actor, org_id, [row["id"] for row in rows], filters)
    return count, rows


def _included_ids(definition: Any) -> set[int]:
    """Ids of the saved segments a stored definition (JSON data) includes directly."""
    found: set[int] = set()
    stack = [definition]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "in_segment" and isinstance(item.get("segment_id"), int):
                found.add(item["segment_id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def visible_saved(org_path: str) -> list[dict[str, Any]]:
    """The saved segments a unit may use (``id``, ``name``, ``org_id``): its own and those of
    the units above it, by name."""
    above, args = ancestors_sql("o.path", org_path)
    return await db.fetch(
        "SELECT s.id, s.name, s.org_id FROM segment s JOIN org_unit o ON o.id = s.org_id "
        f"WHERE {above} ORDER BY s.name, s.id",
        *args,
    )


async def create_saved(org_id: int, org_path: str, name: str, definition: Any) -> int:
    """Keep ``definition`` (a ``Segment``) under ``name`` for the unit; returns the new id
    (audited as ``segment.created``).

    Raises:
        Problem: 422 on ``definition…`` (see :func:`core.segments.compiler.check_segment`).
    """
    await check_segment(definition, org_path, "definition")
    rows = await SavedSegment.insert(
        SavedSegment(org=org_id, name=name, definition=msgspec.to_builtins(definition))
    ).run()
    segment_id = rows[0]["id"]
    await record("segment.created", object_type="segment", object_id=segment_id, org_id=org_id)
    return segment_id


async def update_saved(
    segment_id: int, org_path: str, name: str | None, definition: Any | None
) -> None:
    """Rename and/or redefine saved segment ``segment_id``.

    Raises:
        Problem: 422 on ``definition…`` when the new definition includes this segment again,
        directly or through others.
    """
    values: dict[Any, Any] = {}
    if name is not None:
        values[SavedSegment.name] = name
    if definition is not None:
        await check_segment(definition, org_path, "definition", segment_id=segment_id)
        values[SavedSegment.definition] = msgspec.to_builtins(definition)
    if values:
        await SavedSegment.update(values).where(SavedSegment.id == segment_id).run()


async def delete_saved(segment_id: int, org_path: str) -> None:
    """Delete saved segment ``segment_id`` of the unit at ``org_path``.

    Raises:
        Problem: 409 while another saved segment (of this unit or one below, the ones that
        can see it) includes it.
    """
    units = await subtree_ids(org_path)
    marks = ", ".join(["{}"] * len(units))
    rows = await db.fetch(
        f"SELECT id, name, definition FROM segment WHERE org_id IN ({marks}) AND id <> {{}} "
        "ORDER BY id",
        *units,
        segment_id,
    )
    users = [r for r in rows if segment_id in _included_ids(db.json_value(r["definition"]))]
    if users:
        names = ", ".join(f"{r['name']} ({r['id']})" for r in users)
        raise conflict(f"Saved segments include this one: {names}.", field="segment_id")
    await SavedSegment.delete().where(SavedSegment.id == segment_id).run()
