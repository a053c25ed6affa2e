"""The funnel per unit and source: signed up → confirmed → acted (a call to action, newspapers
distributed or an event attended) → attended an event → member, per month.

Event attendance comes from the events module only through the segment filter it registers
(``event_participation``, the ``register_segment_filters`` hook), compiled to SQL by core: a
set-based condition on the person, so the whole funnel stays one grouped query and no module
imports another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from core.api import compile_segment, current_runtime, db

__all__ = ["attended_predicate", "funnel", "funnel_by_month"]


async def attended_predicate(org_path: str) -> tuple[str, list[Any]] | None:
    """ "Attended an event" as SQL on ``p``, through the segment filter another module offers
    (``event_participation``, e.g. the events module); ``None`` when no module offers it."""
    wanted = {"where": {"type": "event_participation", "status": "attended"}}
    try:
        segment = msgspec.convert(wanted, current_runtime().segment)
    except msgspec.ValidationError:
        return None
    return await compile_segment(segment, org_path)


def _counts_sql(attended_sql: str) -> str:
    """The funnel's counts over ``a`` (activist) and ``p`` (person) rows."""
    return (
        "COUNT(*) AS signed_up, "
        "SUM(CASE WHEN a.confirmed_at IS NOT NULL THEN 1 ELSE 0 END) AS confirmed, "
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM linksaktiv_call_done d WHERE d.person_id = "
        "a.person_id) OR EXISTS (SELECT 1 FROM linksaktiv_order o WHERE o.person_id = "
        f"a.person_id AND o.status = 'distributed') OR ({attended_sql}) THEN 1 ELSE 0 END) "
        "AS acted, "
        f"SUM(CASE WHEN ({attended_sql}) THEN 1 ELSE 0 END) AS attended, "
        "SUM(CASE WHEN p.member_status = 'member' THEN 1 ELSE 0 END) AS members"
    )


def _month_sql() -> str:
    return (
        "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
        if db.is_postgres()
        else "substr(a.created_at, 1, 7)"
    )


def _ints(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (int(v or 0) if k not in ("month", "source") else v) for k, v in row.items()}


async def funnel(
    unit_ids: list[int],
    start: Any = None,
    attended: tuple[str, list[Any]] | None = None,
    limit: int = 500,
    after: tuple[str, int, str] | None = None,
) -> list[dict[str, Any]]:
    """Counts per month of sign-up, home unit and source, in that order.

    ``acted``: did a call to action, distributed newspapers or (when ``attended`` is given)
    attended an event; ``attended``: attended an event; ``member``: the person's member
    status is ``member`` now. One grouped query; the subtree's ids come from core. ``after``
    (a row's month, unit and source) and ``limit`` make a keyset page; sign-ups before
    ``after``'s month are not even counted.
    """
    if not unit_ids:
        return []
    attended_sql, attended_args = attended or ("1 = 0", [])
    marks = ", ".join(["{}"] * len(unit_ids))
    args: list[Any] = [*attended_args, *attended_args, *unit_ids]
    since = ""
    if start is not None:
        since += " AND a.created_at >= {}"
        args.append(start)
    if after is not None:
        since += " AND a.created_at >= {}"
        args.append(datetime.strptime(after[0], "%Y-%m").replace(tzinfo=UTC))
    sql = (
        f"SELECT {_month_sql()} AS month, p.home_org_id AS org_id, a.source AS source, "
        f"{_counts_sql(attended_sql)} "
        "FROM linksaktiv_activist a JOIN person p ON p.id = a.person_id "
        f"WHERE p.home_org_id IN ({marks}){since} GROUP BY 1, 2, 3"
    )
    sql = f"SELECT * FROM ({sql}) f"
    if after is not None:
        sql += " WHERE (f.month, f.org_id, f.source) > ({}, {}, {})"
        args += after
    sql += " ORDER BY f.month, f.org_id, f.source LIMIT {}"
    args.append(limit)
    return [_ints(r) for r in await db.fetch(sql, *args)]


async def funnel_by_month(
    unit_ids: list[int],
    start: datetime,
    attended: tuple[str, list[Any]] | None = None,
    source: str | None = None,
) -> list[dict[str, Any]]:
    """The funnel per month of sign-up since ``start`` (the console's page): contacts of the
    units ``unit_ids`` (``source`` narrowing them) with the same counts as :func:`funnel`,
    oldest month first."""
    if not unit_ids:
        return []
    attended_sql, attended_args = attended or ("1 = 0", [])
    marks = ", ".join(["{}"] * len(unit_ids))
    args: list[Any] = [*attended_args, *attended_args, *unit_ids, start]
    where = f"p.home_org_id IN ({marks}) AND a.created_at >= {{}}"
    if source:
        where += " AND a.source = {}"
        args.append(source)
    rows = await db.fetch(
        f"SELECT {_month_sql()} AS month, {_counts_sql(attended_sql)} "
        "FROM linksaktiv_activist a JOIN person p ON p.id = a.person_id "
        f"WHERE {where} GROUP BY 1 ORDER BY 1",
        *args,
    )
    return [_ints(r) for r in rows]
