"""Compile a segment (ordered filters) into ONE SQL predicate over the person table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import db
from core.people.services import scope, subtree_ids
from core.segments.filters import FilterContext, OrgFilter, RandomSampleFilter, SegmentFilter

__all__ = ["compile_segment", "count_and_sample", "segment_ids_sql"]

# Knuth's multiplicative hash: a reproducible shuffle for random samples.
_SHUFFLE = "(((p.id + {} * 7919) * 2654435761) % 4294967296)"


async def compile_segment(filters: Sequence[SegmentFilter], org_path: str) -> tuple[str, list[Any]]:
    """The segment within the unit's subtree as ONE predicate on ``p``, and its arguments.

    In WHERE, NULL already counts as "not in the set" for union and intersection, so plain
    predicates keep their indexes; only a subtracted predicate is wrapped in ``IS TRUE``.
    An empty segment matches nobody; a random sample keeps ``size`` people of the set so far
    (of everyone in scope when it comes first).
    """
    ctx = FilterContext(postgres=db.is_postgres(), subtrees=await _subtrees(filters))
    in_scope, scope_args = await scope(org_path)
    expr, args = "1 = 0", []
    for index, item in enumerate(filters):
        if isinstance(item, RandomSampleFilter):
            if index == 0:
                expr, args = "1 = 1", []
            # the shuffle is a bijection on ids, so "the size smallest" is "at most the
            # size-th smallest": one scalar subquery (run once), not an IN over a LIMIT that
            # PostgreSQL would re-scan per row once it no longer fits a hash in work_mem
            expr = (
                f"({expr}) AND {_SHUFFLE} <= COALESCE((SELECT x.h FROM (SELECT {_SHUFFLE} AS h "
                f"FROM person p WHERE {in_scope} AND {expr} ORDER BY h LIMIT 1 OFFSET {{}}) x), "
                "4294967296)"
            )
            args = [*args, item.seed, item.seed, *scope_args, *args, item.size - 1]
            continue
        sql, extra = item.predicate(ctx)
        if index == 0:
            expr, args = f"({sql})", list(extra)
        elif item.op == "add":
            expr, args = f"({expr} OR ({sql}))", [*args, *extra]
        elif item.op == "sub":
            # NOT NULL is NULL, so a subtraction must treat "unknown" as "not in the set"
            expr, args = f"({expr} AND NOT (({sql}) IS TRUE))", [*args, *extra]
        else:
            expr, args = f"({expr} AND ({sql}))", [*args, *extra]
    return f"{in_scope} AND {expr}", [*scope_args, *args]


async def _subtrees(filters: Sequence[SegmentFilter]) -> dict[int, list[int]]:
    """Unit ids below each unit an org filter names (one small query per named unit)."""
    result: dict[int, list[int]] = {}
    for item in filters:
        if isinstance(item, OrgFilter) and item.org_id not in result:
            row = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", item.org_id)
            result[item.org_id] = await subtree_ids(row["path"]) if row else []
    return result


async def segment_ids_sql(filters: Sequence[SegmentFilter], org_path: str) -> tuple[str, list[Any]]:
    """``SELECT p.id FROM person p WHERE …`` for the segment within the unit's subtree."""
    expr, args = await compile_segment(filters, org_path)
    return f"SELECT p.id FROM person p WHERE {expr}", args


async def count_and_sample(
    filters: Sequence[SegmentFilter], org_path: str, sample: int = 10
) -> tuple[int, list[dict[str, Any]]]:
    """How many people match within the subtree, and the first few of them."""
    where, args = await compile_segment(filters, org_path)
    count = await db.fetch_one(f"SELECT COUNT(*) AS n FROM person p WHERE {where}", *args)
    rows = await db.fetch(
        f"SELECT p.id, p.first_name, p.last_name, p.home_org_id FROM person p WHERE {where} "
        "ORDER BY p.id LIMIT {}",
        *args,
        sample,
    )
    return int(count["n"]), rows
