"""Progress of an assignment: totals, why people are blocked, per caller, day and child unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.api import compile_segment, db, not_opted_out_sql, path_under_sql
from plugins.calling.assignments import goal_segment
from plugins.calling.filters import RETRY_OUTCOMES
from plugins.calling.schemas import CountRow, DayRow, Stats

__all__ = ["assignment_stats"]


def _day(column: str) -> str:
    if db.is_postgres():
        return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"
    return f"substr({column}, 1, 10)"


async def _goal_matches(assignment: dict[str, Any], org_path: str) -> int:
    goal = goal_segment(assignment)
    if not goal:
        row = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM calling_target WHERE assignment_id = {} "
            "AND state = 'done' AND last_outcome = 'reached'",
            assignment["id"],
        )
        return int(row["n"])
    where, args = await compile_segment(goal, org_path, "goal")
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM calling_target t JOIN person p ON p.id = t.person_id "
        f"WHERE t.assignment_id = {{}} AND t.state <> 'removed' AND ({where})",
        assignment["id"],
        *args,
    )
    return int(row["n"])


async def _queue(assignment_id: int, now: datetime) -> dict[str, int]:
    row = await db.fetch_one(
        "SELECT COUNT(*) AS targets, "
        "SUM(CASE WHEN t.state = 'open' THEN 1 ELSE 0 END) AS remaining, "
        "SUM(CASE WHEN t.state = 'open' AND t.current_call_id IS NOT NULL "
        "AND t.available_at > {} THEN 1 ELSE 0 END) AS reserved, "
        "SUM(CASE WHEN t.state = 'open' AND t.current_call_id IS NULL AND t.available_at > {} "
        f"AND t.last_outcome IN {RETRY_OUTCOMES} THEN 1 ELSE 0 END) AS cooldown, "
        "SUM(CASE WHEN t.state = 'open' AND t.call_back_after > {} THEN 1 ELSE 0 END) "
        "AS call_back, "
        "SUM(CASE WHEN t.state = 'open' AND NOT p.has_phone THEN 1 ELSE 0 END) AS no_number, "
        f"SUM(CASE WHEN t.state = 'open' AND NOT {not_opted_out_sql('phone')} THEN 1 ELSE 0 END) "
        "AS do_not_call "
        "FROM calling_target t JOIN person p ON p.id = t.person_id "
        "WHERE t.assignment_id = {} AND t.state <> 'removed'",
        now,
        now,
        now,
        assignment_id,
    )
    return {key: int(value or 0) for key, value in row.items()}


async def assignment_stats(assignment: dict[str, Any], org_path: str, now: datetime) -> Stats:
    """Counts for the assignment dashboard (a handful of grouped queries, no per-row work).

    ``per_unit`` covers two levels below the assignment's unit (states and their districts for
    a federal campaign), each row counting its whole subtree; ``parent`` links them.
    """
    queue = await _queue(assignment["id"], now)
    calls = await db.fetch_one(
        "SELECT COUNT(*) AS calls, SUM(CASE WHEN outcome = 'reached' THEN 1 ELSE 0 END) "
        "AS reached FROM calling_call WHERE assignment_id = {} AND state = 'reported'",
        assignment["id"],
    )
    per_caller = await db.fetch(
        "SELECT c.caller_id, u.display_name, COUNT(*) AS calls, "
        "SUM(CASE WHEN c.outcome = 'reached' THEN 1 ELSE 0 END) AS reached "
        "FROM calling_call c JOIN orga_user u ON u.id = c.caller_id "
        "WHERE c.assignment_id = {} AND c.state = 'reported' "
        "GROUP BY c.caller_id, u.display_name ORDER BY calls DESC, c.caller_id",
        assignment["id"],
    )
    day = _day("reported_at")
    per_day = await db.fetch(
        f"SELECT {day} AS day, COUNT(*) AS calls, "
        "SUM(CASE WHEN outcome = 'reached' THEN 1 ELSE 0 END) AS reached FROM calling_call "
        f"WHERE assignment_id = {{}} AND state = 'reported' GROUP BY {day} ORDER BY {day}",
        assignment["id"],
    )
    per_unit = await db.fetch(
        "SELECT c.id, c.name, c.parent_id, COUNT(t.id) AS targets, "
        "SUM(CASE WHEN t.state = 'done' THEN 1 ELSE 0 END) AS done, "
        "SUM(CASE WHEN t.last_outcome = 'reached' THEN 1 ELSE 0 END) AS reached, "
        "SUM(t.attempts) AS calls "
        f"FROM org_unit c JOIN org_unit h ON {path_under_sql('h.path', 'c.path')} "
        "JOIN person p ON p.home_org_id = h.id "
        "JOIN calling_target t ON t.person_id = p.id AND t.assignment_id = {} "
        "WHERE (c.parent_id = {} OR c.parent_id IN (SELECT id FROM org_unit WHERE parent_id = {})) "
        "AND t.state <> 'removed' GROUP BY c.id, c.name, c.parent_id ORDER BY c.path",
        assignment["id"],
        assignment["org_id"],
        assignment["org_id"],
    )
    return Stats(
        targets=queue["targets"],
        goal_matches=await _goal_matches(assignment, org_path),
        remaining=queue["remaining"],
        calls=int(calls["calls"] or 0),
        reached=int(calls["reached"] or 0),
        blocked={
            key: queue[key]
            for key in ("reserved", "cooldown", "call_back", "no_number", "do_not_call")
        },
        per_caller=[
            CountRow(
                key=str(r["caller_id"]),
                label=r["display_name"],
                calls=int(r["calls"]),
                reached=int(r["reached"] or 0),
            )
            for r in per_caller
        ],
        per_day=[
            DayRow(day=_as_date(r["day"]), calls=int(r["calls"]), reached=int(r["reached"] or 0))
            for r in per_day
        ],
        per_unit=[
            CountRow(
                key=str(r["id"]),
                label=r["name"],
                parent=str(r["parent_id"]),
                targets=int(r["targets"]),
                done=int(r["done"] or 0),
                reached=int(r["reached"] or 0),
                calls=int(r["calls"] or 0),
            )
            for r in per_unit
        ],
    )


def _as_date(value: Any):
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(str(value))
