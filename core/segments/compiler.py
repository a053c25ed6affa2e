"""Compile a segment (a tree of groups and filters) into ONE SQL predicate over ``person p``.

The service API every caller uses (routes, modules, the console's segment builder):
:func:`parse_segment` (JSON → the running deployment's ``Segment``, 422 naming the field),
:func:`check_segment` (saved segments exist, are visible and include no cycle),
:func:`compile_segment` (SQL), :func:`segment_ids_sql` and :func:`count_and_sample`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from core import db
from core.context import current_runtime
from core.orgs.paths import is_under
from core.people.services import SegmentWhere, scope, subtree_ids
from core.problems import invalid
from core.segments.filters import FilterContext, OrgFilter, SegmentFilter
from core.segments.types import AllGroup, AnyGroup, InSegment, NotGroup, SampleGroup

__all__ = [
    "check_segment",
    "compile_segment",
    "count_and_sample",
    "parse_segment",
    "segment_ids_sql",
    "segment_where",
]

# Knuth's multiplicative hash: a reproducible shuffle for random samples.
_SHUFFLE = "(((p.id + {} * 7919) * 2654435761) % 4294967296)"
# bounds on a segment with every saved segment it includes spelled out: the SQL stays small
# and the recursion shallow
_MAX_NODES = 500
_MAX_DEPTH = 32
_MAX_NESTED_SAMPLES = 3


def parse_segment(value: Any, field: str = "segment") -> Any:
    """``value`` (JSON data) as the running deployment's ``Segment`` (core's and every enabled
    module's filters; the list form becomes a tree).

    Raises:
        Problem: 422 naming the field below ``field`` (e.g. ``target.where.of[1].type``).
    """
    try:
        return msgspec.convert(value, current_runtime().segment)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        raise invalid(field + path.rstrip("`"), message) from exc


@dataclass
class _Resolved:
    """What rendering needs beyond the tree: saved segments' trees and org subtrees."""

    kind: type
    org_path: str
    prefix: str
    saved: dict[int, Any] = field(default_factory=dict)
    subtrees: dict[int, list[int]] = field(default_factory=dict)
    nodes: int = 0


async def _load_saved(segment_id: int, state: _Resolved, where: str) -> Any:
    """The tree of saved segment ``segment_id`` if the unit sees it (its own or one above)."""
    if segment_id in state.saved:
        return state.saved[segment_id]
    row = await db.fetch_one(
        "SELECT s.definition, o.path FROM segment s JOIN org_unit o ON o.id = s.org_id "
        "WHERE s.id = {}",
        segment_id,
    )
    if row is None or not is_under(state.org_path, row["path"]):
        raise invalid(
            where,
            f"saved segment {segment_id} does not exist or is not visible from this unit",
        )
    try:
        tree = msgspec.convert(db.json_value(row["definition"]), state.kind).where
    except msgspec.ValidationError as exc:
        raise invalid(where, f"saved segment {segment_id} is not valid here: {exc}") from exc
    state.saved[segment_id] = tree
    return tree


async def _resolve(
    node: Any,
    path: str,
    state: _Resolved,
    chain: tuple[int, ...],
    via: str | None,
    depth: int,
    samples: int = 0,
) -> None:
    """Walk the tree (and the saved segments it includes), checking as it goes.

    ``path`` is the node's field; inside an included saved segment errors name ``via``, the
    ``in_segment`` node of the definition being checked, since that is what the caller wrote.
    """
    state.nodes += 1
    if state.nodes > _MAX_NODES:
        raise invalid(
            state.prefix or "where", f"at most {_MAX_NODES} conditions, saved segments included"
        )
    if depth > _MAX_DEPTH:
        raise invalid(via or path, f"nested more than {_MAX_DEPTH} levels deep")
    if isinstance(node, SampleGroup):
        samples += 1
        if samples > _MAX_NESTED_SAMPLES:  # each sample repeats its inner condition twice
            raise invalid(via or path, f"at most {_MAX_NESTED_SAMPLES} samples inside each other")
    if isinstance(node, AllGroup | AnyGroup):
        for index, child in enumerate(node.of):  # type: ignore[attr-defined]
            await _resolve(child, f"{path}.of[{index}]", state, chain, via, depth + 1, samples)
    elif isinstance(node, NotGroup | SampleGroup):
        if node.of is not None:  # type: ignore[attr-defined]
            inner = node.of  # type: ignore[attr-defined]
            await _resolve(inner, f"{path}.of", state, chain, via, depth + 1, samples)
    elif isinstance(node, InSegment):
        where = via or f"{path}.segment_id"
        if node.segment_id in chain:
            loop = " → ".join(str(i) for i in (*chain, node.segment_id))
            raise invalid(where, f"saved segment {node.segment_id} includes itself ({loop})")
        tree = await _load_saved(node.segment_id, state, where)
        await _resolve(tree, path, state, (*chain, node.segment_id), where, depth + 1, samples)
    elif isinstance(node, SegmentFilter):
        if node.op is not msgspec.UNSET:
            raise invalid(
                via or f"{path}.op", "op belongs to the list form (filters); use all, any or not"
            )
        if isinstance(node, OrgFilter) and node.org_id not in state.subtrees:
            row = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", node.org_id)
            state.subtrees[node.org_id] = await subtree_ids(row["path"]) if row else []


async def _resolved(
    segment: Any, org_path: str, field: str, segment_id: int | None = None
) -> _Resolved:
    """The checked tree's saved segments and org subtrees (see :func:`check_segment`)."""
    state = _Resolved(kind=type(segment), org_path=org_path, prefix=field)
    chain = (segment_id,) if segment_id is not None else ()
    await _resolve(segment.where, f"{field}.where" if field else "where", state, chain, None, 0)
    return state


async def check_segment(
    segment: Any, org_path: str, field: str = "segment", segment_id: int | None = None
) -> None:
    """Check what the type cannot: every included saved segment exists and is visible from
    the unit, none includes itself (``segment_id``: the saved segment being redefined), no
    ``op`` in a tree, and the size.

    Raises:
        Problem: 422 naming the field below ``field``.
    """
    await _resolved(segment, org_path, field, segment_id)


def _render(
    node: Any, ctx: FilterContext, state: _Resolved, in_scope: tuple[str, list[Any]]
) -> tuple[str, list[Any]]:
    """SQL and arguments of one node (a predicate on ``p``)."""
    if isinstance(node, AllGroup | AnyGroup):
        joiner = " AND " if isinstance(node, AllGroup) else " OR "
        parts = [_render(child, ctx, state, in_scope) for child in node.of]  # type: ignore[attr-defined]
        return "(" + joiner.join(f"({sql})" for sql, _ in parts) + ")", [
            arg for _, args in parts for arg in args
        ]
    if isinstance(node, NotGroup):
        # NOT NULL is NULL: the complement must count "unknown" as "not in the set"
        sql, args = _render(node.of, ctx, state, in_scope)  # type: ignore[attr-defined]
        return f"NOT (({sql}) IS TRUE)", args
    if isinstance(node, SampleGroup):
        return _sample(node, ctx, state, in_scope)
    if isinstance(node, InSegment):
        return _render(state.saved[node.segment_id], ctx, state, in_scope)
    return node.predicate(ctx)


def _sample(
    node: SampleGroup, ctx: FilterContext, state: _Resolved, in_scope: tuple[str, list[Any]]
) -> tuple[str, list[Any]]:
    """The ``size`` people of ``of`` (within scope) that come first in the seed's shuffle.

    The shuffle is a bijection on ids, so "the size smallest" is "at most the size-th
    smallest": one scalar subquery (run once), not an IN over a LIMIT that PostgreSQL would
    re-scan per row once it no longer fits a hash in work_mem."""
    inner = node.of  # type: ignore[attr-defined]
    expr, args = _render(inner, ctx, state, in_scope) if inner is not None else ("1 = 1", [])
    scope_sql, scope_args = in_scope
    sql = (
        f"({expr}) AND {_SHUFFLE} <= COALESCE((SELECT x.h FROM (SELECT {_SHUFFLE} AS h "
        f"FROM person p WHERE {scope_sql} AND ({expr}) ORDER BY h LIMIT 1 OFFSET {{}}) x), "
        "4294967296)"
    )
    return sql, [*args, node.seed, node.seed, *scope_args, *args, node.size - 1]


async def compile_segment(
    segment: Any, org_path: str, field: str = "segment"
) -> tuple[str, list[Any]]:
    """The segment within the unit's subtree as ONE predicate on ``p``, and its arguments.

    Included saved segments are read now (a change to one changes every segment using it).
    In WHERE, NULL already counts as "not in the set" for AND and OR, so plain predicates
    keep their indexes; only a complement wraps its predicate in ``IS TRUE``.

    Raises:
        Problem: 422 naming the field below ``field`` when an included saved segment is gone,
        no longer visible, or would include itself (see :func:`check_segment`).
    """
    state = await _resolved(segment, org_path, field)
    ctx = FilterContext(postgres=db.is_postgres(), subtrees=state.subtrees)
    in_scope = await scope(org_path)
    expr, args = _render(segment.where, ctx, state, in_scope)
    return f"{in_scope[0]} AND ({expr})", [*in_scope[1], *args]


async def segment_where(segment: Any, org_path: str, field: str = "segment") -> SegmentWhere:
    """The segment compiled to narrow a people list
    (:func:`core.people.services.read_people_page`); errors as :func:`compile_segment`."""
    expr, args = await compile_segment(segment, org_path, field)
    return SegmentWhere(expr, args, msgspec.to_builtins(segment))


async def segment_ids_sql(segment: Any, org_path: str) -> tuple[str, list[Any]]:
    """``SELECT p.id FROM person p WHERE …`` for the segment within the unit's subtree."""
    expr, args = await compile_segment(segment, org_path)
    return f"SELECT p.id FROM person p WHERE {expr}", args


async def count_and_sample(
    segment: Any, org_path: str, sample: int = 10, field: str = "segment"
) -> tuple[int, list[dict[str, Any]]]:
    """How many people match within the subtree, and the first few of them (none asked for,
    none read; errors name the fields below ``field``; ``""`` when the segment is the
    request body)."""
    where, args = await compile_segment(segment, org_path, field)
    count = await db.fetch_one(f"SELECT COUNT(*) AS n FROM person p WHERE {where}", *args)
    if sample <= 0:
        return int(count["n"]), []
    rows = await db.fetch(
        f"SELECT p.id, p.first_name, p.last_name, p.home_org_id FROM person p WHERE {where} "
        "ORDER BY p.id LIMIT {}",
        *args,
        sample,
    )
    return int(count["n"]), rows
