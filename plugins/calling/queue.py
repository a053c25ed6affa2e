"""The call queue: hand out the next person, release, call back one person.

Correctness does not rest on a lock: a target is handed out by a conditional UPDATE (only
while it is available), and the person by an insert into ``calling_lock`` whose unique index on
``person_id`` admits one live call per person across all assignments. On PostgreSQL the
candidate row is picked with ``FOR UPDATE SKIP LOCKED`` so concurrent callers do not queue
behind each other; SQLite serializes write transactions anyway. Candidates that turn out to be
blocked (no number, opted out, goal reached, called elsewhere) are pushed back or closed, so
the head of the queue stays callable and the time of ``next`` does not grow with the calls made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.api import (
    audit_insert_sql,
    compile_segment,
    current_runtime,
    db,
    module_config,
    not_opted_out_sql,
    record,
)
from plugins.calling.assignments import goal_segment
from plugins.calling.report import PlainReport
from plugins.calling.sql import in_list
from plugins.calling.views import card_columns

__all__ = [
    "CallingConfig",
    "ReportRefused",
    "Reservation",
    "config",
    "release",
    "release_caller",
    "reserve",
]

_MAX_SKIPS = 100
Audit = tuple[int, int | None, int]  # who reserves: user id, token id, org unit id


class CallingConfig(msgspec.Struct, kw_only=True):
    """Settings of the calling module (``ORGA_CALLING__<KEY>`` or ``[orga.calling]``).

    ``progress_shared_from`` / ``progress_refresh_seconds``: the progress page counts afresh
    for every view of an assignment with fewer than ``progress_shared_from`` people to call;
    a bigger one's views share the last count and refresh it in the background once it is
    older than ``progress_refresh_seconds`` (the page says when it was counted).
    """

    reservation_minutes: int = 15
    recheck_minutes: int = 60
    busy_retry_minutes: int = 5
    progress_shared_from: int = 20_000
    progress_refresh_seconds: int = 10


def config() -> CallingConfig:
    """The deployment's calling settings."""
    return module_config(current_runtime().settings, "calling", CallingConfig)


class Reservation(msgspec.Struct):
    """A reserved call: its id, the target row and the person (with the call card's columns
    when the reservation statement read them)."""

    call_id: int
    target_id: int
    person_id: int
    reserved_until: datetime
    card: dict[str, Any] | None = None


async def _blocked_reason_sql(
    assignment: dict[str, Any], org_path: str, now: datetime, callback: bool
) -> tuple[str, list[Any]]:
    """A CASE expression on ``t``/``p``: why the target may not be called now, else NULL."""
    parts = [
        "WHEN NOT p.has_phone THEN 'no_number'",
        f"WHEN NOT {not_opted_out_sql('phone')} THEN 'do_not_call'",
    ]
    args: list[Any] = []
    goal = None if callback else goal_segment(assignment)
    if goal:
        where, goal_args = await compile_segment(goal, org_path, "goal")
        parts.append(f"WHEN {where} THEN 'goal'")
        args += goal_args
    parts.append(
        "WHEN EXISTS (SELECT 1 FROM calling_lock l WHERE l.person_id = t.person_id "
        "AND l.until > {} AND l.target_id <> t.id) THEN 'reserved'"
    )
    args.append(now)
    return "CASE " + " ".join(parts) + " ELSE NULL END", args


def _candidate_where(
    assignment_id: int,
    now: datetime,
    person_id: int | None,
    excluded: list[int],
    only_tags: list[int],
) -> tuple[str, list[Any]]:
    """The WHERE clause (on ``t``) of the queue's head: open and due (or the one person),
    without the caller's excluded tags, with ``only_tags`` when given (prioritized first)."""
    where = ["t.assignment_id = {}"]
    args: list[Any] = [assignment_id]
    if person_id is None:
        where += ["t.state = 'open'", "t.available_at <= {}"]
        args.append(now)
    else:
        where += ["t.person_id = {}", "t.state <> 'removed'"]
        args.append(person_id)
    for tags, negate in ((excluded, "NOT "), (only_tags, "")):
        if tags:
            where.append(
                f"{negate}EXISTS (SELECT 1 FROM person_tag x WHERE x.person_id = t.person_id "
                f"AND x.tag_id IN ({in_list(tags)}))"
            )
            args += tags
    return " AND ".join(where), args


_CANDIDATE = (
    "SELECT t.id AS target_id, t.person_id AS person_id, {case} AS reason "
    "FROM calling_target t JOIN person p ON p.id = t.person_id WHERE {where} "
    "ORDER BY t.available_at, t.id LIMIT 1{lock}"
)


async def _candidate(
    assignment: dict[str, Any],
    reason: tuple[str, list[Any]],
    now: datetime,
    *,
    person_id: int | None,
    prioritized: list[int],
    excluded: list[int],
) -> dict[str, Any] | None:
    """The first available target (prioritized tags first), locked on PostgreSQL."""
    case, case_args = reason
    lock = " FOR UPDATE OF t SKIP LOCKED" if db.is_postgres() else ""
    passes = [prioritized, []] if prioritized and person_id is None else [[]]
    for only in passes:
        where, args = _candidate_where(assignment["id"], now, person_id, excluded, only)
        sql = _CANDIDATE.format(case=case, where=where, lock=lock)
        row = await db.fetch_one(sql, *case_args, *args)
        if row is not None:
            return row
    return None


async def _set_aside(target_id: int, reason: str, now: datetime, settings: CallingConfig) -> None:
    """Take a blocked candidate off the head of the queue (closed when its goal matches)."""
    if reason == "goal":
        await db.execute(
            "UPDATE calling_target SET state = 'done', blocked = 'goal' WHERE id = {}", target_id
        )
        return
    minutes = settings.busy_retry_minutes if reason == "reserved" else settings.recheck_minutes
    await db.execute(
        "UPDATE calling_target SET available_at = {}, blocked = {} WHERE id = {}",
        now + timedelta(minutes=minutes),
        reason,
        target_id,
    )


async def _lock_person(person_id: int, target_id: int, call_id: int, until, now) -> bool:
    """Take the person's call lock (unique per person); False while another call holds it."""
    rows = await db.fetch(
        "INSERT INTO calling_lock (person_id, target_id, call_id, until) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (person_id) DO UPDATE SET target_id = excluded.target_id, "
        "call_id = excluded.call_id, until = excluded.until WHERE calling_lock.until <= {} "
        "RETURNING person_id",
        person_id,
        target_id,
        call_id,
        until,
        now,
    )
    return bool(rows)


async def _take_target(target_id: int, call_id: int, until, now, callback: bool) -> bool:
    """The conditional UPDATE that hands a target out at most once at a time."""
    condition = (
        "(current_call_id IS NULL OR available_at <= {})"
        if callback
        else "state = 'open' AND available_at <= {}"
    )
    rows = await db.fetch(
        "UPDATE calling_target SET available_at = {}, current_call_id = {}, blocked = NULL "
        f"WHERE id = {{}} AND {condition} RETURNING id",
        until,
        call_id,
        target_id,
        now,
    )
    return bool(rows)


async def _new_call(
    assignment_id: int, target_id: int, person_id: int, caller_id: int, now, until
) -> int:
    rows = await db.fetch(
        "INSERT INTO calling_call (assignment_id, target_id, person_id, caller_id, state, "
        "reserved_at, reserved_until) VALUES ({}, {}, {}, {}, 'reserved', {}, {}) RETURNING id",
        assignment_id,
        target_id,
        person_id,
        caller_id,
        now,
        until,
    )
    return rows[0]["id"]


async def _take_stepwise(
    assignment_id: int, target_id: int, person_id: int, caller_id: int, now, until, callback
) -> int | None:
    """Open the call, lock the person, take the target: three statements (SQLite, where a
    statement costs no round trip). Undone when the person or the target is taken."""
    call_id = await _new_call(assignment_id, target_id, person_id, caller_id, now, until)
    if await _lock_person(person_id, target_id, call_id, until, now) and await _take_target(
        target_id, call_id, until, now, callback is not None
    ):
        return call_id
    await _undo(call_id)
    return None


_TAKE_SQL = """
WITH lk AS (
  INSERT INTO calling_lock (person_id, target_id, call_id, until)
  VALUES ({{}}, {{}}, nextval('calling_call_id_seq'), {{}})
  ON CONFLICT (person_id) DO UPDATE SET target_id = excluded.target_id,
    call_id = excluded.call_id, until = excluded.until WHERE calling_lock.until <= {{}}
  RETURNING call_id
), tg AS (
  UPDATE calling_target SET available_at = {{}}, current_call_id = (SELECT call_id FROM lk),
    blocked = NULL
  WHERE id = {{}} AND EXISTS (SELECT 1 FROM lk) AND {condition}
  RETURNING id
)
INSERT INTO calling_call (id, assignment_id, target_id, person_id, caller_id, state,
  reserved_at, reserved_until)
SELECT (SELECT call_id FROM lk), CAST({{}} AS INTEGER), CAST({{}} AS INTEGER),
  CAST({{}} AS INTEGER), CAST({{}} AS INTEGER), 'reserved', CAST({{}} AS TIMESTAMPTZ),
  CAST({{}} AS TIMESTAMPTZ) FROM tg
RETURNING id
"""


async def _take_postgres(
    assignment_id: int, target_id: int, person_id: int, caller_id: int, now, until, callback
) -> int | None:
    """Lock the person, take the target and open the call in ONE statement (one round trip)."""
    condition = (
        "(current_call_id IS NULL OR available_at <= {})"
        if callback is not None
        else "state = 'open' AND available_at <= {}"
    )
    rows = await db.fetch(
        _TAKE_SQL.format(condition=condition),
        *(person_id, target_id, until, now),
        *(until, target_id, now),
        *(assignment_id, target_id, person_id, caller_id, now, until),
    )
    if rows:
        return rows[0]["id"]
    # the lock may have been taken for a call that was then not opened
    await db.execute(
        "DELETE FROM calling_lock l WHERE l.person_id = {} AND NOT EXISTS "
        "(SELECT 1 FROM calling_call c WHERE c.id = l.call_id)",
        person_id,
    )
    return None


# the caller's live calls in the assignment go back to the queue (one reservation each)
_RELEASE = """
rel AS (
  UPDATE calling_call SET state = 'released'
  WHERE assignment_id = {} AND caller_id = {} AND state = 'reserved' RETURNING id, target_id
), rel_t AS (
  UPDATE calling_target t SET available_at = {}, current_call_id = NULL
  FROM rel WHERE t.id = rel.target_id AND t.current_call_id = rel.id
), rel_l AS (
  DELETE FROM calling_lock l USING rel WHERE l.call_id = rel.id
), """
_RESERVED_AUDIT = audit_insert_sql("""
  SELECT CAST({} AS TIMESTAMPTZ), CAST({} AS INTEGER), CAST({} AS INTEGER),
    'calling.reserved', 'person', cl.person_id, CAST({} AS INTEGER),
    json_build_object('call_id', cl.id)
  FROM cl""")
_FUSED = """
WITH {before}cand AS ({candidate}), lk AS (
  INSERT INTO calling_lock (person_id, target_id, call_id, until)
  SELECT person_id, target_id, nextval('calling_call_id_seq'), CAST({{}} AS TIMESTAMPTZ)
  FROM cand WHERE reason IS NULL
  ON CONFLICT (person_id) DO UPDATE SET target_id = excluded.target_id,
    call_id = excluded.call_id, until = excluded.until WHERE calling_lock.until <= {{}}
  RETURNING call_id, person_id, target_id
), tg AS (
  UPDATE calling_target t SET available_at = {{}}, current_call_id = lk.call_id, blocked = NULL
  FROM lk WHERE t.id = lk.target_id AND t.state = 'open' AND t.available_at <= {{}}
  RETURNING t.id
), cl AS (
  INSERT INTO calling_call (id, assignment_id, target_id, person_id, caller_id, state,
    reserved_at, reserved_until)
  SELECT lk.call_id, CAST({{}} AS INTEGER), lk.target_id, lk.person_id, CAST({{}} AS INTEGER),
    'reserved', CAST({{}} AS TIMESTAMPTZ), CAST({{}} AS TIMESTAMPTZ)
  FROM lk JOIN tg ON tg.id = lk.target_id
  RETURNING id, person_id
), au AS (
  {audit}
)
SELECT {reported} AS reported, cand.target_id, cand.person_id, cand.reason, cl.id AS call_id,
  {card} FROM {rows} LEFT JOIN cl ON true LEFT JOIN person p ON p.id = cl.person_id
LEFT JOIN org_unit o ON o.id = p.home_org_id
"""


# with a report the statement only goes on when the report was stored; the candidate is never
# the reported target (FOR UPDATE would skip that row, which rp_tg updated in this very
# statement, but the rule is spelled out rather than left to that)
_AFTER_REPORT = {
    "candidate": " AND EXISTS (SELECT 1 FROM rp_cl) "
    "AND NOT EXISTS (SELECT 1 FROM rp WHERE rp.target_id = t.id)",
    "reported": "EXISTS (SELECT 1 FROM rp_cl)",
    "rows": "(SELECT 1) AS one LEFT JOIN cand ON true",
}
_WITHOUT_REPORT = {"candidate": "", "reported": "TRUE", "rows": "cand"}


class ReportRefused(Exception):
    """The plain report given to :func:`reserve` found no live call of the caller in this
    assignment; nothing was reported, released or reserved."""


async def _reserve_fused(
    assignment: dict[str, Any],
    reason: tuple[str, list[Any]],
    caller_id: int,
    audit: Audit,
    now: datetime,
    until: datetime,
    excluded: list[int],
    only: list[int],
    report: PlainReport | None,
) -> dict[str, Any] | None:
    """PostgreSQL, ``next``: report the caller's live call in this assignment (``report``)
    or else release it, pick the head of the queue, lock the person, take the target, open
    the call, audit it and read the call card, all in ONE statement (no BEGIN/COMMIT, one
    round trip). The row says whether the report was stored (``reported``; when not,
    nothing else happened), which target was looked at, why it is blocked (``reason``) or
    which call was opened (``call_id``, with the card)."""
    case, case_args = reason
    where, where_args = _candidate_where(assignment["id"], now, None, excluded, only)
    parts = _WITHOUT_REPORT if report is None else _AFTER_REPORT
    candidate = _CANDIDATE.format(
        case=case, where=where + parts["candidate"], lock=" FOR UPDATE OF t SKIP LOCKED"
    )
    if report is None:
        before, before_args = _RELEASE, [assignment["id"], caller_id, now]
    else:
        # the reported call is the caller's one reservation here: nothing else to release
        before, before_args = report.ctes(assignment["id"])
        before += ", "
    user_id, token_id, org_id = audit
    sql = _FUSED.format(
        before=before,
        candidate=candidate,
        reported=parts["reported"],
        card=card_columns(),
        rows=parts["rows"],
        audit=_RESERVED_AUDIT,
    )
    return await db.fetch_one(
        sql,
        *before_args,
        *case_args,
        *where_args,
        *(until, now, until, now),
        *(assignment["id"], caller_id, now, until),
        *(now, user_id, token_id, org_id),
    )


async def _reserve_postgres(
    assignment: dict[str, Any],
    org_path: str,
    caller_id: int,
    audit: Audit,
    now: datetime,
    until: datetime,
    prioritized: list[int],
    excluded: list[int],
    settings: CallingConfig,
    report: PlainReport | None,
) -> Reservation | None:
    """The next reservation on PostgreSQL: one statement per look at the queue's head, the
    first one also storing ``report``.

    Raises:
        ReportRefused: when ``report`` names no live call of the caller in this assignment.
    """
    reason = await _blocked_reason_sql(assignment, org_path, now, False)
    looked_again = False
    for _ in range(_MAX_SKIPS):
        row = None
        for only in [prioritized, []] if prioritized else [[]]:
            row = await _reserve_fused(
                assignment, reason, caller_id, audit, now, until, excluded, only, report
            )
            if report is not None:
                assert row is not None  # a statement with a report always answers one row
                if not row["reported"]:
                    raise ReportRefused
                report = None
                if row["target_id"] is None:
                    row = None
            if row is not None:
                break
        if row is None:
            if looked_again:
                return None
            # the statement's snapshot did not see the call it released itself; look once
            # more so "nobody left" is never answered while that person is callable
            looked_again = True
            continue
        if row["call_id"] is not None:
            return Reservation(row["call_id"], row["target_id"], row["person_id"], until, row)
        if row["reason"] is None:  # the person was taken elsewhere meanwhile
            await db.execute(
                "DELETE FROM calling_lock l WHERE l.person_id = {} AND NOT EXISTS "
                "(SELECT 1 FROM calling_call c WHERE c.id = l.call_id)",
                row["person_id"],
            )
        await _set_aside(row["target_id"], row["reason"] or "reserved", now, settings)
    return None


async def _undo(call_id: int) -> None:
    await db.execute("DELETE FROM calling_lock WHERE call_id = {}", call_id)
    await db.execute("DELETE FROM calling_call WHERE id = {}", call_id)


async def release_caller(assignment_id: int, caller_id: int, now: datetime) -> None:
    """Release the caller's reservations in this assignment (one live call per caller)."""
    rows = await db.fetch(
        "UPDATE calling_call SET state = 'released' WHERE assignment_id = {} AND caller_id = {} "
        "AND state = 'reserved' RETURNING id, target_id",
        assignment_id,
        caller_id,
    )
    for row in rows:
        await _free(row["id"], row["target_id"], now)


async def _free(call_id: int, target_id: int, now: datetime) -> None:
    """Put the target back at the end of the available queue and drop the call's lock."""
    await db.execute(
        "UPDATE calling_target SET available_at = {}, current_call_id = NULL "
        "WHERE id = {} AND current_call_id = {}",
        now,
        target_id,
        call_id,
    )
    await db.execute("DELETE FROM calling_lock WHERE call_id = {}", call_id)


async def reserve(
    assignment: dict[str, Any],
    org_path: str,
    caller: dict[str, Any],
    now: datetime,
    *,
    audit: Audit,
    person_id: int | None = None,
    report: PlainReport | None = None,
) -> Reservation | None:
    """Reserve the next callable target for ``caller`` (a roster entry: ``user_id`` and the ids
    of their ``prioritized_ids``/``excluded_ids`` tags) or the one ``person_id``; None when
    nothing is left. A caller holds one reservation per assignment: asking for the next
    releases the one before. Every reservation writes its audit row (``audit`` = user id,
    token id, org unit id) together with the reservation. ``report`` (PostgreSQL, without
    ``person_id``) stores the caller's live call in this assignment in the same statement.

    Raises:
        ReportRefused: when ``report`` names no live call of the caller in this assignment.
    """
    settings = config()
    until = now + timedelta(minutes=settings.reservation_minutes)
    prioritized, excluded = caller["prioritized_ids"], caller["excluded_ids"]
    if db.is_postgres() and person_id is None:
        return await _reserve_postgres(
            assignment,
            org_path,
            caller["user_id"],
            audit,
            now,
            until,
            prioritized,
            excluded,
            settings,
            report,
        )
    assert report is None, "a report goes with the reservation on PostgreSQL only"
    async with db.transaction():
        found = await _reserve_stepwise(
            assignment, org_path, caller, now, until, person_id, prioritized, excluded, settings
        )
        if found is not None:
            await record(
                "calling.reserved",
                user_id=audit[0],
                token_id=audit[1],
                org_id=audit[2],
                object_type="person",
                object_id=found.person_id,
                detail={"call_id": found.call_id},
            )
        return found


async def _reserve_stepwise(
    assignment: dict[str, Any],
    org_path: str,
    caller: dict[str, Any],
    now: datetime,
    until: datetime,
    person_id: int | None,
    prioritized: list[int],
    excluded: list[int],
    settings: CallingConfig,
) -> Reservation | None:
    """The reservation as separate statements in the caller's transaction (SQLite, and the
    call-back of one person)."""
    await release_caller(assignment["id"], caller["user_id"], now)
    reason = await _blocked_reason_sql(assignment, org_path, now, person_id is not None)
    for _ in range(_MAX_SKIPS):
        row = await _candidate(
            assignment,
            reason,
            now,
            person_id=person_id,
            prioritized=prioritized,
            excluded=excluded,
        )
        if row is None:
            return None
        if row["reason"] is not None:
            if person_id is not None:
                return None
            await _set_aside(row["target_id"], row["reason"], now, settings)
            continue
        target_id, found = row["target_id"], row["person_id"]
        take = _take_postgres if db.is_postgres() else _take_stepwise
        call_id = await take(
            assignment["id"], target_id, found, caller["user_id"], now, until, person_id
        )
        if call_id is not None:
            return Reservation(call_id, target_id, found, until)
        if person_id is not None:
            return None
        await _set_aside(target_id, "reserved", now, settings)
    return None


async def release(call_id: int, now: datetime) -> None:
    """Give a reserved call back: the person returns to the end of the available queue."""
    async with db.transaction():
        rows = await db.fetch(
            "UPDATE calling_call SET state = 'released' WHERE id = {} AND state = 'reserved' "
            "RETURNING target_id",
            call_id,
        )
        if rows:
            await _free(call_id, rows[0]["target_id"], now)
