"""Call assignments: create, change, delete, and keep the queue in step with the target."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import cmarkgfm
import msgspec
from markupsafe import Markup

from core.api import (
    N_,
    check_segment,
    compile_segment,
    conflict,
    db,
    drop_cached,
    invalid,
    parse_segment,
    record,
    to_row,
    utcnow,
)
from plugins.calling.schemas import AssignmentIn, AssignmentOut, AssignmentPatch
from plugins.calling.sql import timestamp_param
from plugins.calling.tables import CallAssignment

__all__ = [
    "assignment_out",
    "assignment_state",
    "close_assignment",
    "create_assignment",
    "delete_assignment",
    "goal_segment",
    "instructions_html",
    "progress_counts",
    "refresh_targets",
    "target_counts",
    "update_assignment",
]


def assignment_state(start_at: datetime | None, end_at: datetime | None, now: datetime) -> str:
    """draft (no start), scheduled (start ahead), closed (end passed) or open."""
    if start_at is None:
        return "draft"
    if now < start_at:
        return "scheduled"
    if end_at is not None and now >= end_at:
        return "closed"
    return "open"


def assignment_out(row: dict[str, Any], targets: int = 0) -> AssignmentOut:
    """Turn a table row into the API shape."""
    return AssignmentOut(
        id=row["id"],
        org_id=row["org_id"],
        title=row["title"],
        description=row["description"],
        instructions=row["instructions"],
        target=db.json_value(row["target"]),
        goal=db.json_value(row["goal"]),
        cooldown_hours=row["cooldown_hours"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        survey=msgspec.convert(db.json_value(row["survey"]), list),
        show_earlier_notes=bool(row["show_earlier_notes"]),
        state=assignment_state(row["start_at"], row["end_at"], utcnow()),  # type: ignore[arg-type]
        targets=targets,
        targets_refreshed_at=row["targets_refreshed_at"],
        created_at=row["created_at"],
    )


def goal_segment(row: dict[str, Any]) -> Any | None:
    """The goal segment, or ``None`` for the default "reached in this assignment"."""
    goal = db.json_value(row["goal"])
    return None if goal is None else parse_segment(goal, "goal")


async def _check_segments(values: dict[str, Any], org_path: str) -> None:
    """The ``target`` and ``goal`` among ``values`` are valid segments for the unit (their
    filters exist, included saved segments are visible)."""
    for key in ("target", "goal"):
        if values.get(key) is not None:
            await check_segment(parse_segment(values[key], key), org_path, key)


def _check_dates(start_at: datetime | None, end_at: datetime | None) -> None:
    if start_at and end_at and end_at <= start_at:
        raise invalid("end_at", N_("The end must be after the start."))


def _check_survey(survey: list[Any]) -> None:
    keys = [q.key for q in survey]
    if len(keys) != len(set(keys)):
        raise invalid("survey", "question keys must be unique")
    for index, question in enumerate(survey):
        if question.kind == "choice" and not question.options:
            raise invalid(f"survey[{index}].options", N_("A choice question needs options."))


async def create_assignment(org_id: int, org_path: str, data: AssignmentIn) -> dict[str, Any]:
    """Insert an assignment for unit ``org_id`` and fill its queue from the target segment
    (audited as ``calling.assignment_created``)."""
    _check_dates(data.start_at, data.end_at)
    _check_survey(data.survey)
    await _check_segments({"target": data.target, "goal": data.goal}, org_path)
    async with db.transaction():
        rows = await CallAssignment.insert(CallAssignment(org=org_id, **to_row(data))).run()
        row = await _load(rows[0]["id"])
        await refresh_targets(row, org_path)
        await _audit("calling.assignment_created", org_id, row["id"])
    return await _load(row["id"])


async def _audit(action: str, org_id: int, assignment_id: int) -> None:
    await record(action, org_id=org_id, object_type="call_assignment", object_id=assignment_id)


async def _load(assignment_id: int) -> dict[str, Any]:
    row = await db.fetch_one("SELECT * FROM calling_assignment WHERE id = {}", assignment_id)
    assert row is not None
    return row


async def update_assignment(
    row: dict[str, Any], org_path: str, patch: AssignmentPatch
) -> dict[str, Any]:
    """Apply a patch; a changed target refreshes the queue (audited as
    ``calling.assignment_changed``)."""
    values = to_row(patch)
    start = values.get("start_at", row["start_at"])
    end = values.get("end_at", row["end_at"])
    _check_dates(start, end)
    if patch.survey is not msgspec.UNSET:
        _check_survey(patch.survey)
    await _check_segments(values, org_path)
    for key in ("target", "goal", "survey"):
        if key in values:
            values[key] = msgspec.json.encode(values[key]).decode()
    async with db.transaction():
        if values:
            values["updated_at"] = utcnow()
            columns = ", ".join(f"{name} = {{}}" for name in values)
            await db.execute(
                f"UPDATE calling_assignment SET {columns} WHERE id = {{}}",
                *values.values(),
                row["id"],
            )
        fresh = await _load(row["id"])
        if "target" in values:
            await refresh_targets(fresh, org_path)
        await _audit("calling.assignment_changed", fresh["org_id"], row["id"])
    drop_cached("calling_assignment")
    return await _load(row["id"])


async def delete_assignment(row: dict[str, Any]) -> None:
    """Delete an assignment that has no reported calls (close it otherwise); audited as
    ``calling.assignment_deleted``."""
    made = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM calling_call WHERE assignment_id = {} AND state = 'reported'",
        row["id"],
    )
    if made["n"]:
        raise conflict("the assignment has calls; set end_at to close it instead")
    async with db.transaction():
        await db.execute("DELETE FROM calling_assignment WHERE id = {}", row["id"])
        await _audit("calling.assignment_deleted", row["org_id"], row["id"])
    drop_cached("calling_assignment")


async def close_assignment(
    row: dict[str, Any], org_path: str, now: datetime | None = None
) -> dict[str, Any]:
    """End the assignment now (the same change as ``PATCH`` with ``end_at``; a draft or a
    scheduled one counts as started a moment before), audited as ``calling.assignment_changed``.
    Its queue, calls and answers stay for the statistics."""
    now = now or utcnow()
    start = row["start_at"]
    values: dict[str, Any] = {"end_at": now}
    if start is None or start >= now:
        values["start_at"] = now - timedelta(seconds=1)
    return await update_assignment(row, org_path, AssignmentPatch(**values))


def instructions_html(text: str) -> Markup:
    """The instructions' Markdown as HTML (CommonMark with GitHub's extensions; raw HTML and
    unsafe links are left out by cmark's safe mode)."""
    return Markup(cmarkgfm.github_flavored_markdown_to_html(text))  # noqa: S704 - safe mode


async def refresh_targets(row: dict[str, Any], org_path: str, now: datetime | None = None) -> int:
    """Bring the queue in step with the target segment; returns the number of new targets.

    New members of the segment join the queue (available now); people who left it and are not
    done are marked ``removed``, and come back if they re-enter. One INSERT … SELECT, so
    200,000 targets are materialized in one statement.
    """
    now = now or utcnow()
    target = parse_segment(db.json_value(row["target"]), "target")
    where, args = await compile_segment(target, org_path, "target")
    member = f"EXISTS (SELECT 1 FROM person p WHERE p.id = calling_target.person_id AND {where})"
    await db.execute(
        "UPDATE calling_target SET state = 'removed' WHERE assignment_id = {} "
        f"AND state = 'open' AND NOT {member}",
        row["id"],
        *args,
    )
    await db.execute(
        "UPDATE calling_target SET state = 'open' WHERE assignment_id = {} "
        f"AND state = 'removed' AND {member}",
        row["id"],
        *args,
    )
    before = await _count(row["id"])
    await db.execute(
        "INSERT INTO calling_target (assignment_id, person_id, state, available_at, attempts) "
        f"SELECT CAST({{}} AS INTEGER), p.id, 'open', {timestamp_param()}, 0 "
        f"FROM person p WHERE {where} "
        # the unique index skips people already queued; a NOT EXISTS probe here made
        # PostgreSQL re-scan the growing table per row (quadratic at 200,000 targets)
        "ON CONFLICT (assignment_id, person_id) DO NOTHING",
        row["id"],
        now,
        *args,
    )
    await db.execute(
        "UPDATE calling_assignment SET targets_refreshed_at = {} WHERE id = {}", now, row["id"]
    )
    return await _count(row["id"]) - before


async def target_counts(assignment_ids: list[int]) -> dict[int, int]:
    """The number of targets (not removed) of each assignment that has any, by id."""
    if not assignment_ids:
        return {}
    marks = ", ".join(["{}"] * len(assignment_ids))
    rows = await db.fetch(
        "SELECT assignment_id, COUNT(*) AS n FROM calling_target "
        f"WHERE assignment_id IN ({marks}) AND state <> 'removed' GROUP BY assignment_id",
        *assignment_ids,
    )
    return {r["assignment_id"]: int(r["n"]) for r in rows}


async def progress_counts(assignment_ids: list[int]) -> dict[int, tuple[int, int]]:
    """``(targets, done)`` of each assignment that has targets, by id (removed ones left out;
    done: reached, goal met or do not call)."""
    if not assignment_ids:
        return {}
    marks = ", ".join(["{}"] * len(assignment_ids))
    rows = await db.fetch(
        "SELECT assignment_id, COUNT(*) AS n, "
        "SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END) AS done FROM calling_target "
        f"WHERE assignment_id IN ({marks}) AND state <> 'removed' GROUP BY assignment_id",
        *assignment_ids,
    )
    return {r["assignment_id"]: (int(r["n"]), int(r["done"] or 0)) for r in rows}


async def _count(assignment_id: int) -> int:
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM calling_target WHERE assignment_id = {}", assignment_id
    )
    return int(row["n"])
