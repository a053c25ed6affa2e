"""What the organizer's console pages read: the unit's events by tab and filter (a keyset
page), a month's events, the contact persons to choose from, and the statistics (sign-ups per
week, attendance rate per event type). Reads only; changes go through :mod:`services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cmarkgfm
from markupsafe import Markup

from core.api import (
    Page,
    ancestors_sql,
    check_limit,
    db,
    decode_cursor,
    invalid,
    page_of,
    scope,
    subtree_sql,
)
from plugins.events.config import events_config
from plugins.events.schemas import MAX_DURATION

__all__ = [
    "MONTH_LIMIT",
    "TABS",
    "EventFilter",
    "attendance_by_type",
    "contact_candidates",
    "description_html",
    "event_units",
    "events_page",
    "month_events",
    "month_grid",
    "read_filter",
    "signups_per_week",
]

TABS = ("upcoming", "past", "drafts")
MONTH_LIMIT = 500  # events drawn in one month (a note says when there are more)


def description_html(text: str) -> Markup:
    """An event description's Markdown as HTML (CommonMark with GitHub's extensions; raw
    HTML and unsafe links are left out by cmark's safe mode)."""
    return Markup(cmarkgfm.github_flavored_markdown_to_html(text))  # noqa: S704 - safe mode


@dataclass(frozen=True)
class EventFilter:
    """The list's choices: the tab, an event type, a unit of the subtree (its own subtree)."""

    tab: str = "upcoming"
    type: str = ""
    unit_id: int | None = None


async def event_units(org_path: str) -> list[dict[str, Any]]:
    """The unit and the units below it (``id``, ``name``, ``path``), by path."""
    where, args = subtree_sql("path", org_path)
    return await db.fetch(f"SELECT id, name, path FROM org_unit WHERE {where} ORDER BY path", *args)


def read_filter(
    tab: str | None, type_: str | None, unit: str | None, units: list[dict[str, Any]]
) -> EventFilter:
    """The list's query as a filter; 422 naming ``tab``, ``type`` or ``unit`` for a value
    that is none of the choices (``units``: :func:`event_units`)."""
    tab = (tab or "upcoming").strip()
    if tab not in TABS:
        raise invalid("tab", "one of: " + ", ".join(TABS))
    type_ = (type_ or "").strip()
    if type_ and type_ not in events_config().types:
        raise invalid("type", "unknown event type")
    unit = (unit or "").strip()
    unit_id = None
    if unit:
        if not unit.isdecimal() or int(unit) not in {u["id"] for u in units}:
            raise invalid("unit", "no such unit here")
        unit_id = int(unit)
    return EventFilter(tab, type_, unit_id)


def _unit_ids(chosen: EventFilter, units: list[dict[str, Any]]) -> list[int]:
    if chosen.unit_id is None:
        return [u["id"] for u in units]
    path = next(u["path"] for u in units if u["id"] == chosen.unit_id)
    return [u["id"] for u in units if u["path"].startswith(path)]


def _where(chosen: EventFilter, units: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    ids = _unit_ids(chosen, units)
    where = [f"e.org_id IN ({', '.join(['{}'] * len(ids))})"]
    args: list[Any] = list(ids)
    if chosen.type:
        where.append("e.type = {}")
        args.append(chosen.type)
    return where, args


_SELECT = "SELECT e.*, o.name AS unit_name FROM events_event e JOIN org_unit o ON o.id = e.org_id"


async def events_page(
    units: list[dict[str, Any]],
    chosen: EventFilter,
    now: datetime,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page of the events of ``units`` (:func:`event_units`) on the chosen tab:
    upcoming (not ended, soonest first), past (newest first) or drafts (by start).

    Every event lasts at most ``MAX_DURATION``, so "not ended" starts its index scan
    (``events_event_org_start``) just before now and "past" just after it.
    """
    check_limit(limit)
    key = decode_cursor(cursor, tuple[str, int])
    where, args = _where(chosen, units)
    descending = chosen.tab == "past"
    if chosen.tab == "upcoming":
        where += ["e.state <> 'draft'", "e.end_at > {}", "e.start_at > {}"]
        args += [now, now - MAX_DURATION]
    elif chosen.tab == "past":
        where += ["e.state <> 'draft'", "e.end_at <= {}", "e.start_at < {}"]
        args += [now, now]
    else:
        where.append("e.state = 'draft'")
    if key is not None:
        try:
            after = (datetime.fromisoformat(key[0]), int(key[1]))
        except (ValueError, IndexError, TypeError):
            raise invalid("cursor", "malformed cursor") from None
        op = "<" if descending else ">"
        where.append(f"(e.start_at {op} {{}} OR (e.start_at = {{}} AND e.id {op} {{}}))")
        args += [after[0], after[0], after[1]]
    order = "DESC" if descending else "ASC"
    rows = await db.fetch(
        f"{_SELECT} WHERE {' AND '.join(where)} "
        f"ORDER BY e.start_at {order}, e.id {order} LIMIT {{}}",
        *args,
        limit + 1,
    )
    return page_of(rows, limit, key=lambda r: [r["start_at"].isoformat(), r["id"]])


def month_bounds(month: str | None, zone: ZoneInfo, today: date) -> tuple[date, date]:
    """The first day of ``month`` (``2026-12``; this month when empty) and of the next;
    422 on ``month`` for anything else."""
    text = (month or "").strip()
    try:
        first = date.fromisoformat(f"{text}-01") if text else today.replace(day=1)
    except ValueError:
        raise invalid("month", "a month as YYYY-MM") from None
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


async def month_events(
    units: list[dict[str, Any]], chosen: EventFilter, first: date, following: date, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The events (drafts too) starting in the month from ``first`` to ``following`` in
    ``zone``, by start, at most ``MONTH_LIMIT`` + 1 (the caller says when there are more)."""
    where, args = _where(chosen, units)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(following, datetime.min.time(), zone)
    where += ["e.start_at >= {}", "e.start_at < {}"]
    args += [start, end]
    return await db.fetch(
        f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY e.start_at, e.id LIMIT {{}}",
        *args,
        MONTH_LIMIT + 1,
    )


def month_grid(
    first: date, following: date, rows: list[dict[str, Any]], zone: ZoneInfo
) -> list[list[dict[str, Any]]]:
    """The month as weeks (Monday first) of days ``{"day", "in_month", "events"}``."""
    by_day: dict[date, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["start_at"].astimezone(zone).date(), []).append(row)
    day = first - timedelta(days=first.weekday())
    last = following - timedelta(days=1)
    last += timedelta(days=6 - last.weekday())
    weeks: list[list[dict[str, Any]]] = []
    while day <= last:
        if day.weekday() == 0:
            weeks.append([])
        weeks[-1].append(
            {"day": day, "in_month": first <= day < following, "events": by_day.get(day, [])}
        )
        day += timedelta(days=1)
    return weeks


async def contact_candidates(org_path: str) -> list[dict[str, Any]]:
    """The unit's users who can be an event's contact person: active users with a role on the
    unit, above or below it, whose own person record is visible in the unit's subtree
    (``person_id``, ``name``), by name."""
    below, below_args = subtree_sql("o.path", org_path)
    above, above_args = ancestors_sql("o.path", org_path)
    visible, visible_args = await scope(org_path, "p")
    return await db.fetch(
        "SELECT DISTINCT p.id AS person_id, p.first_name, p.last_name, u.display_name "
        "FROM orga_user u JOIN role_assignment ra ON ra.user_id = u.id "
        "JOIN org_unit o ON o.id = ra.org_id JOIN person p ON p.id = u.person_id "
        f"WHERE u.active AND (({below}) OR ({above})) AND {visible} "
        "ORDER BY p.first_name, p.last_name, p.id",
        *below_args,
        *above_args,
        *visible_args,
    )


def _day(column: str) -> str:
    if db.is_postgres():
        return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"
    return f"substr({column}, 1, 10)"


async def signups_per_week(
    units: list[dict[str, Any]], today: date, weeks: int = 26
) -> list[dict[str, Any]]:
    """Sign-ups (participations made, whatever became of them) for the events of ``units``
    per week (Monday first), the last ``weeks`` weeks up to ``today``: ``{"week", "signups"}``
    in time order, empty weeks included."""
    ids = [u["id"] for u in units]
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    day = _day("pa.created_at")
    rows = await db.fetch(
        f"SELECT {day} AS day, COUNT(*) AS n FROM events_participation pa "
        "JOIN events_event e ON e.id = pa.event_id "
        f"WHERE e.org_id IN ({', '.join(['{}'] * len(ids))}) AND pa.created_at >= {{}} "
        f"GROUP BY {day}",
        *ids,
        datetime.combine(first, time.min, UTC),
    )
    counts = {first + timedelta(weeks=k): 0 for k in range(weeks)}
    for row in rows:
        found = row["day"] if isinstance(row["day"], date) else date.fromisoformat(row["day"])
        week = found - timedelta(days=found.weekday())
        if week in counts:
            counts[week] += int(row["n"])
    return [{"week": week, "signups": n} for week, n in sorted(counts.items())]


async def attendance_by_type(
    units: list[dict[str, Any]], now: datetime, days: int = 365
) -> list[dict[str, Any]]:
    """Per event type, over the published events of ``units`` that ended in the last
    ``days``: events, people expected (signed up or booked), attended and the rate
    (attended of expected), by type."""
    ids = [u["id"] for u in units]
    rows = await db.fetch(
        "SELECT e.type, COUNT(DISTINCT e.id) AS events, "
        "SUM(CASE WHEN pa.status IN ('signed_up', 'booked') THEN 1 ELSE 0 END) AS expected, "
        "SUM(CASE WHEN pa.attendance = 'attended' THEN 1 ELSE 0 END) AS attended "
        "FROM events_event e LEFT JOIN events_participation pa ON pa.event_id = e.id "
        f"WHERE e.org_id IN ({', '.join(['{}'] * len(ids))}) AND e.state = 'published' "
        "AND e.end_at <= {} AND e.end_at > {} GROUP BY e.type ORDER BY e.type",
        *ids,
        now,
        now - timedelta(days=days),
    )
    result = []
    for row in rows:
        expected, attended = int(row["expected"] or 0), int(row["attended"] or 0)
        result.append(
            {
                "type": row["type"],
                "events": int(row["events"]),
                "expected": expected,
                "attended": attended,
                "rate": attended / expected if expected else 0.0,
            }
        )
    return result
