"""Progress of an assignment: totals, why people are blocked, per caller, day and child unit."""

from __future__ import annotations

from datetime import date, datetime
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


_QUEUE_COUNTS = (
    "targets",
    "goal_matches",
    "remaining",
    "reached",
    "calls",
    "reserved",
    "cooldown",
    "call_back",
    "no_number",
    "do_not_call",
    "ready",
)


async def _queue_by_home_unit(
    assignment: dict[str, Any], org_path: str, now: datetime
) -> list[dict[str, int]]:
    """The queue's figures in ONE pass over the assignment's targets, grouped by the people's
    home units: who meets the goal, who is left and why those left cannot be called right
    now. A person who meets the goal is neither remaining nor blocked, whatever state the
    queue has yet written for them (it closes such rows only when they reach the head of the
    queue). The totals and the per-unit rows are sums of these groups."""
    goal = goal_segment(assignment)
    if goal:
        where, goal_args = await compile_segment(goal, org_path, "goal")
        met = f"({where})"
    else:
        met, goal_args = "(t.state = 'done' AND t.last_outcome = 'reached')", []
    # PostgreSQL would otherwise pull the inner query up and evaluate each flag once per use
    fence = " OFFSET 0" if db.is_postgres() else ""
    rows = await db.fetch(
        "SELECT home, COUNT(*) AS targets, SUM(met) AS goal_matches, SUM(lft) AS remaining, "
        "SUM(reached) AS reached, SUM(attempts) AS calls, "
        "SUM(CASE WHEN lft = 1 AND current_call_id IS NOT NULL AND available_at > {} "
        "THEN 1 ELSE 0 END) AS reserved, "
        "SUM(CASE WHEN lft = 1 AND current_call_id IS NULL AND available_at > {} "
        f"AND last_outcome IN {RETRY_OUTCOMES} THEN 1 ELSE 0 END) AS cooldown, "
        "SUM(CASE WHEN lft = 1 AND call_back_after > {} THEN 1 ELSE 0 END) AS call_back, "
        "SUM(CASE WHEN lft = 1 AND phone = 0 THEN 1 ELSE 0 END) AS no_number, "
        "SUM(CASE WHEN lft = 1 AND callable = 0 THEN 1 ELSE 0 END) AS do_not_call, "
        "SUM(CASE WHEN lft = 1 AND current_call_id IS NULL AND available_at <= {} "
        "AND phone = 1 AND callable = 1 THEN 1 ELSE 0 END) AS ready "
        "FROM (SELECT p.home_org_id AS home, t.current_call_id, t.available_at, "
        "t.last_outcome, t.call_back_after, t.attempts, "
        "CASE WHEN t.last_outcome = 'reached' THEN 1 ELSE 0 END AS reached, "
        f"CASE WHEN {met} THEN 1 ELSE 0 END AS met, "
        f"CASE WHEN t.state = 'open' AND NOT {met} THEN 1 ELSE 0 END AS lft, "
        "CASE WHEN p.has_phone THEN 1 ELSE 0 END AS phone, "
        f"CASE WHEN {not_opted_out_sql('phone')} THEN 1 ELSE 0 END AS callable "
        "FROM calling_target t JOIN person p ON p.id = t.person_id "
        f"WHERE t.assignment_id = {{}} AND t.state <> 'removed'{fence}) q GROUP BY home",
        *(now, now, now, now),
        *goal_args,
        *goal_args,
        assignment["id"],
    )
    return [
        {"home": row["home"], **{key: int(row[key] or 0) for key in _QUEUE_COUNTS}} for row in rows
    ]


async def _per_unit(assignment: dict[str, Any], groups: list[dict[str, int]]) -> list[CountRow]:
    """The home-unit groups summed up for the two levels below the assignment's unit (states
    and their districts for a federal campaign), each row counting its whole subtree."""
    units = await db.fetch(
        "SELECT u.id, u.name, u.parent_id, u.path FROM org_unit u JOIN org_unit a "
        f"ON {path_under_sql('u.path', 'a.path')} WHERE a.id = {{}} ORDER BY u.path",
        assignment["org_id"],
    )
    paths = {unit["id"]: unit["path"] for unit in units}
    top = assignment["org_id"]
    children = {unit["id"] for unit in units if unit["parent_id"] == top}
    shown = {
        unit["id"]: {"targets": 0, "remaining": 0, "reached": 0, "calls": 0}
        for unit in units
        if unit["parent_id"] == top or unit["parent_id"] in children
    }
    for group in groups:
        for ancestor in _path_ids(paths.get(group["home"], "")):
            if ancestor in shown:
                for key, total in shown[ancestor].items():
                    shown[ancestor][key] = total + group[key]
    return [
        CountRow(
            key=str(unit["id"]),
            label=unit["name"],
            parent=str(unit["parent_id"]),
            targets=counts["targets"],
            done=counts["targets"] - counts["remaining"],
            reached=counts["reached"],
            calls=counts["calls"],
        )
        for unit in units
        if (counts := shown.get(unit["id"])) and counts["targets"]
    ]


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


async def _organizer_action(assignment_id: int) -> int:
    """People left in the queue with an open "organizer action needed" from this assignment."""
    row = await db.fetch_one(
        "SELECT COUNT(DISTINCT f.person_id) AS n FROM calling_followup f "
        "JOIN calling_target t ON t.assignment_id = f.assignment_id AND t.person_id = f.person_id "
        "WHERE f.assignment_id = {} AND f.status = 'open' AND f.kind = 'organizer_action' "
        "AND t.state = 'open'",
        assignment_id,
    )
    return int(row["n"] or 0)


async def assignment_stats(assignment: dict[str, Any], org_path: str, now: datetime) -> Stats:
    """Counts for the assignment dashboard (a handful of grouped queries, no per-row work).

    ``per_unit`` covers two levels below the assignment's unit (states and their districts for
    a federal campaign), each row counting its whole subtree; ``parent`` links them.
    """
    groups = await _queue_by_home_unit(assignment, org_path, now)
    queue = {key: sum(group[key] for group in groups) for key in _QUEUE_COUNTS}
    outcomes = {
        r["outcome"]: int(r["n"])
        for r in await db.fetch(
            "SELECT outcome, COUNT(*) AS n FROM calling_call WHERE assignment_id = {} "
            "AND state = 'reported' GROUP BY outcome",
            assignment["id"],
        )
    }
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
    return Stats(
        targets=queue["targets"],
        goal_matches=queue["goal_matches"],
        remaining=queue["remaining"],
        done=queue["targets"] - queue["remaining"],
        ready=queue["ready"],
        calls=sum(outcomes.values()),
        reached=outcomes.get("reached", 0),
        blocked={
            **{
                key: queue[key]
                for key in ("reserved", "cooldown", "call_back", "no_number", "do_not_call")
            },
            "organizer_action": await _organizer_action(assignment["id"]),
        },
        outcomes=dict(sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))),
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
        per_unit=await _per_unit(assignment, groups),
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
