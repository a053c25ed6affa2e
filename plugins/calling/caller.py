"""The caller's services behind both the JSON routes and the console's call screen: save and
next, report, skip with a reason, my assignments with their progress, the caller's live call,
and why a queue is empty."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from core.api import (
    N_,
    Actor,
    FieldError,
    Page,
    Problem,
    check_limit,
    db,
    decode_cursor,
    invalid,
    is_under,
    module_enabled,
    not_found,
    page_of,
    record,
)
from plugins.calling import calls, queue, roster
from plugins.calling.assignments import assignment_state, goal_segment
from plugins.calling.report import PlainReport, is_plain, report_call, report_plain
from plugins.calling.schemas import CallOut, CallReport, MyAssignment, PreviousCall
from plugins.calling.sql import in_list
from plugins.calling.views import call_view, survey_of

__all__ = [
    "CALL_BACK_PRESETS",
    "QueueStatus",
    "call_back_time",
    "live_call",
    "my_assignments",
    "open_assignment",
    "open_card",
    "progress",
    "queue_status",
    "report",
    "save_and_next",
    "skip",
]


async def open_assignment(
    assignment_id: int, org_path: str, user_id: int, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The assignment (visible from ``org_path``) and the user's roster entry, for calling
    now: 404 / 403 as :func:`roster.assignment_and_caller`, 409 unless it is open."""
    assignment, entry = await roster.assignment_and_caller(assignment_id, org_path, user_id)
    state = assignment_state(assignment["start_at"], assignment["end_at"], now)
    if state != "open":
        raise Problem(409, "assignment-not-open", f"The assignment is {state}.")
    return assignment, entry


def _audit(actor: Actor, assignment: dict[str, Any]) -> queue.Audit:
    return actor.user_id, actor.token_id, assignment["org_id"]


def _plain(
    actor: Actor, org_path: str, call_id: int, data: CallReport, now: datetime
) -> PlainReport | None:
    """The report as one statement (PostgreSQL, :func:`is_plain` reports), else None."""
    if not (db.is_postgres() and is_plain(data, now)):
        return None
    return PlainReport(call_id, org_path, actor.user_id, actor.token_id, data, now)


async def _report_full(
    actor: Actor, org_path: str, call_id: int, data: CallReport, now: datetime
) -> None:
    """Report a call step by step (:func:`report_call`); says why it cannot."""
    call, assignment = await roster.my_call(call_id, org_path, actor.user_id)
    await report_call(
        call,
        assignment,
        survey_of(assignment),
        goal_segment(assignment) is None,
        data,
        actor.user_id,
        now,
    )


async def report(
    actor: Actor, org_path: str, call_id: int, data: CallReport, now: datetime
) -> None:
    """Report the actor's call (of an assignment visible from ``org_path``): one statement
    for a plain report on PostgreSQL, else the full path, which says why it cannot."""
    plain = _plain(actor, org_path, call_id, data, now)
    if plain is not None and await report_plain(plain):
        return
    await _report_full(actor, org_path, call_id, data, now)


async def _report_previous(
    actor: Actor, org_path: str, previous: PreviousCall, now: datetime
) -> None:
    """Report the previous call on the full path; a refusal names the field under
    ``previous.report``."""
    try:
        await _report_full(actor, org_path, previous.call_id, previous.report, now)
    except Problem as problem:
        if problem.errors:
            problem.errors = [
                FieldError(f"previous.report.{e.field}", e.message) for e in problem.errors
            ]
        raise


async def save_and_next(
    actor: Actor,
    org_path: str,
    assignment: dict[str, Any],
    caller: dict[str, Any],
    previous: PreviousCall | None,
    now: datetime,
) -> queue.Reservation | None:
    """Report ``previous`` (when given) and reserve the next person of the queue for the
    actor, as one request ("save and next"); ``None`` when nobody is left to call. On
    PostgreSQL a plain report and the reservation are one statement. A refused report
    reserves nothing and names the field under ``previous.report``."""
    plain = (
        None
        if previous is None
        else _plain(actor, org_path, previous.call_id, previous.report, now)
    )
    if previous is not None and plain is None:
        await _report_previous(actor, org_path, previous, now)
    audit = _audit(actor, assignment)
    try:
        return await queue.reserve(
            assignment, assignment["org_path"], caller, now, audit=audit, report=plain
        )
    except queue.ReportRefused:
        assert previous is not None
        await _report_previous(actor, org_path, previous, now)  # says why, or takes the full path
        return await queue.reserve(assignment, assignment["org_path"], caller, now, audit=audit)


async def skip(actor: Actor, org_path: str, call_id: int, reason: str, now: datetime) -> None:
    """Give the actor's reserved call back to the queue without calling, audited as
    ``calling.skipped`` with the ``reason`` (may be empty)."""
    call, assignment = await roster.my_call(call_id, org_path, actor.user_id)
    await queue.release(call_id, now)
    await record(
        "calling.skipped",
        org_id=assignment["org_id"],
        object_type="person",
        object_id=call["person_id"],
        detail={"call_id": call_id, "reason": reason},
    )


async def live_call(assignment_id: int, user_id: int) -> dict[str, Any] | None:
    """The user's open call in the assignment (the newest still ``reserved``, even when its
    time ran out), with ``taken``: True when the person went to another call since."""
    return await db.fetch_one(
        "SELECT c.id, c.person_id, c.reserved_until, "
        "(t.current_call_id IS NULL OR t.current_call_id <> c.id) AS taken "
        "FROM calling_call c JOIN calling_target t ON t.id = c.target_id "
        "WHERE c.assignment_id = {} AND c.caller_id = {} AND c.state = 'reserved' "
        "ORDER BY c.id DESC LIMIT 1",
        assignment_id,
        user_id,
    )


def _via_unit(actor: Actor, org_id: int, assignment_path: str) -> tuple[int, str] | None:
    """The unit (id, path) through which the actor calls an assignment: its own unit when they
    may call there, else a unit of theirs below it; ``None`` when neither."""
    if actor.can("calling.call", assignment_path):
        return org_id, assignment_path
    for grant in actor.grants:
        if is_under(grant.path, assignment_path) and actor.can("calling.call", grant.path):
            return grant.org_id, grant.path
    return None


async def my_assignments(
    actor: Actor, limit: int, cursor: str | None, now: datetime
) -> Page[MyAssignment]:
    """Assignments the actor is on, across all units, newest first (keyset pages), each with
    the unit to call it through and their live reservations; assignments they cannot call
    through any unit (or whose unit has calling off) are left out."""
    check_limit(limit)
    key = decode_cursor(cursor)
    before = key[0] if key else None
    found: list[tuple[dict[str, Any], tuple[int, str]]] = []
    enabled: dict[str, bool] = {}
    while len(found) <= limit:
        rows = await calls.my_assignment_rows(actor.user_id, before, limit + 1)
        for row in rows:
            via = _via_unit(actor, row["org_id"], row["path"])
            if via is None:
                continue
            if via[1] not in enabled:
                enabled[via[1]] = await module_enabled("calling", via[1])
            if enabled[via[1]]:
                found.append((row, via))
        if len(rows) <= limit:
            break
        before = rows[-1]["id"]
    page = page_of(found, limit, key=lambda item: [item[0]["id"]])
    open_calls = await calls.my_open_calls(actor.user_id, [row["id"] for row, _ in page.items], now)
    return Page(
        [
            MyAssignment(
                id=row["id"],
                org_id=via[0],
                org_name=row["org_name"],
                title=row["title"],
                state=assignment_state(row["start_at"], row["end_at"], now),  # type: ignore[arg-type]
                open_calls=open_calls.get(row["id"], []),
            )
            for row, via in page.items
        ],
        page.next_cursor,
    )


async def progress(assignment_ids: list[int], user_id: int) -> dict[int, dict[str, int]]:
    """Per assignment: its targets, those done, and the user's own reported calls."""
    if not assignment_ids:
        return {}
    marks = in_list(assignment_ids)
    rows = await db.fetch(
        "SELECT t.assignment_id AS id, COUNT(*) AS targets, "
        "SUM(CASE WHEN t.state = 'done' THEN 1 ELSE 0 END) AS done FROM calling_target t "
        f"WHERE t.assignment_id IN ({marks}) AND t.state <> 'removed' GROUP BY t.assignment_id",
        *assignment_ids,
    )
    mine = await db.fetch(
        "SELECT assignment_id AS id, COUNT(*) AS n FROM calling_call WHERE caller_id = {} "
        f"AND state = 'reported' AND assignment_id IN ({marks}) GROUP BY assignment_id",
        user_id,
        *assignment_ids,
    )
    found = {i: {"targets": 0, "done": 0, "mine": 0} for i in assignment_ids}
    for row in rows:
        found[row["id"]] |= {"targets": int(row["targets"]), "done": int(row["done"] or 0)}
    for row in mine:
        found[row["id"]]["mine"] = int(row["n"])
    return found


class QueueStatus(msgspec.Struct):
    """Why a queue has nobody for the caller now: people done, callable now (but left out by
    the caller's tags), in other callers' hands, waiting for their call-back time, waiting out
    the cooldown, set aside (no number, do not call, called elsewhere; checked again later),
    and when the next one becomes callable (``None``: nobody will)."""

    done: int
    ready: int
    with_callers: int
    call_back: int
    cooldown: int
    set_aside: int
    next_at: datetime | None

    @property
    def waiting(self) -> int:
        """People who become callable later."""
        return self.with_callers + self.call_back + self.cooldown + self.set_aside


async def queue_status(assignment_id: int, now: datetime) -> QueueStatus:
    """The queue of an assignment counted by why each person is (not) callable now, in one
    query over its targets."""
    later = "t.state = 'open' AND t.available_at > {}"
    row = await db.fetch_one(
        "SELECT SUM(CASE WHEN t.state = 'done' THEN 1 ELSE 0 END) AS done, "
        "SUM(CASE WHEN t.state = 'open' AND t.available_at <= {} THEN 1 ELSE 0 END) AS ready, "
        f"SUM(CASE WHEN {later} AND t.current_call_id IS NOT NULL THEN 1 ELSE 0 END) "
        "AS with_callers, "
        f"SUM(CASE WHEN {later} AND t.current_call_id IS NULL AND t.call_back_after IS NOT NULL "
        "THEN 1 ELSE 0 END) AS call_back, "
        f"SUM(CASE WHEN {later} AND t.current_call_id IS NULL AND t.call_back_after IS NULL "
        "AND t.blocked IS NOT NULL THEN 1 ELSE 0 END) AS set_aside, "
        f"SUM(CASE WHEN {later} AND t.current_call_id IS NULL AND t.call_back_after IS NULL "
        "AND t.blocked IS NULL THEN 1 ELSE 0 END) AS cooldown, "
        f"MIN(CASE WHEN {later} THEN t.available_at END) AS next_at "
        "FROM calling_target t WHERE t.assignment_id = {}",
        *(now, now, now, now, now, now),
        assignment_id,
    )
    assert row is not None
    counts = {
        k: int(row[k] or 0)
        for k in ("done", "ready", "with_callers", "call_back", "cooldown", "set_aside")
    }
    return QueueStatus(**counts, next_at=_as_datetime(row["next_at"]))


def _as_datetime(value: Any) -> datetime | None:
    """A computed timestamp as read back: SQLite gives text for an aggregate."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


async def open_card(call_id: int, org_path: str, user_id: int) -> CallOut:
    """The card of the user's open call (still ``reserved``, even when its time ran out, so
    a report in progress is not lost), audited as ``calling.call_viewed``; else 404."""
    call, assignment = await roster.my_call(call_id, org_path, user_id)
    if call["state"] != "reserved":
        raise not_found("call")
    await record(
        "calling.call_viewed",
        user_id=user_id,
        org_id=assignment["org_id"],
        object_type="person",
        object_id=call["person_id"],
        detail={"call_id": call_id},
    )
    return await call_view(assignment, call_id, call["person_id"], call["reserved_until"])


CALL_BACK_PRESETS = ("later_today", "tomorrow_evening", "next_week", "at")


def call_back_time(preset: str, at: str, now: datetime, timezone: str) -> datetime:
    """When to call back: ``later_today`` (in three hours), ``tomorrow_evening`` (18:00
    tomorrow), ``next_week`` (in seven days) or ``at`` (``at`` is a local
    ``YYYY-MM-DDTHH:MM``), in the deployment's ``timezone``.

    Raises:
        Problem: 422 on ``call_back_at`` for a missing, unreadable or past time.
    """
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if preset == "later_today":
        return now + timedelta(hours=3)
    if preset == "tomorrow_evening":
        day = local.date() + timedelta(days=1)
        return datetime.combine(day, time(18, 0), tzinfo=zone).astimezone(UTC)
    if preset == "next_week":
        return now + timedelta(days=7)
    try:
        chosen = datetime.fromisoformat(at).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise invalid("call_back_at", N_("Give a date and time to call back.")) from None
    if chosen <= now:
        raise invalid("call_back_at", N_("The time to call back must be in the future."))
    return chosen
