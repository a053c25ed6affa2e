"""Reporting a call: the outcome moves the person in the queue; answers, tags, consent and
follow-ups are stored in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.api import (
    ConsentIn,
    Problem,
    add_tags,
    audit_insert_sql,
    conflict,
    current_runtime,
    db,
    invalid,
    normalize_phone,
    path_under_sql,
    record,
    record_consent,
)
from plugins.calling.schemas import CallReport, Question
from plugins.calling.tables import CallAnswer, FollowUp

__all__ = ["PlainReport", "check_answers", "is_plain", "report_call", "report_plain"]

_RETRY_LATER = {"no_answer", "busy", "voicemail", "not_available"}


def check_answers(survey: list[Question], answers: dict[str, str | list[str]]) -> list[tuple]:
    """Validate answers against the survey; ``(question, value)`` rows to store."""
    by_key = {q.key: q for q in survey}
    rows: list[tuple[str, str]] = []
    for key, value in answers.items():
        question = by_key.get(key)
        if question is None:
            raise invalid(f"answers.{key}", "no such question in this assignment's survey")
        values = value if isinstance(value, list) else [value]
        if question.kind == "text":
            if isinstance(value, list) or len(value) > 5000:
                raise invalid(f"answers.{key}", "a text answer is one string of ≤ 5000 chars")
        else:
            if len(values) > 1 and not question.multiple:
                raise invalid(f"answers.{key}", "choose one option")
            for item in values:
                if item not in question.options:
                    raise invalid(f"answers.{key}", f"'{item}' is not an option")
        rows += [(key, item) for item in dict.fromkeys(values) if item]
    return rows


async def _wrong_number(person_id: int, phone: str | None, corrected: str | None) -> None:
    """Mark the wrong number invalid; add the corrected one (valid) when given."""
    if not phone:
        raise invalid("phone", "which number was wrong?")
    region = current_runtime().settings.default_region
    right = None
    if corrected:
        right = normalize_phone(corrected, region)
        if right is None:
            raise invalid("corrected_phone", "not a phone number")
    e164 = normalize_phone(phone, region) or phone
    rows = await db.fetch(
        "UPDATE person_phone SET valid = {} WHERE person_id = {} AND e164 = {} RETURNING id",
        False,
        person_id,
        e164,
    )
    if not rows:
        raise invalid("phone", "not a number of this person")
    if right is not None and right != e164:
        await db.execute(
            "INSERT INTO person_phone (person_id, e164, valid, position) SELECT {}, {}, {}, "
            "COALESCE(MAX(position), -1) + 1 FROM person_phone WHERE person_id = {} "
            "ON CONFLICT (person_id, e164) DO UPDATE SET valid = excluded.valid",
            person_id,
            right,
            True,
            person_id,
        )


_TARGET_SQL = (
    "UPDATE calling_target SET current_call_id = NULL, state = {}, available_at = {}, "
    "call_back_after = {}, attempts = attempts + 1, last_outcome = {}, blocked = NULL "
    "WHERE id = {} AND current_call_id = {}"
)
_CALL_SQL = (
    "UPDATE calling_call SET state = 'reported', outcome = {}, notes = {}, phone = {}, "
    "call_back_after = {}, reported_at = {} WHERE id = {}"
)
# PostgreSQL only: the plain report as CTEs named ``rp*`` (``rp_cl`` returns the reported
# call), so a statement can report a call and go on in the same round trip
_REPORTED_CALL = (
    """
rp AS (
  SELECT k.id, k.target_id, a.org_id,
    (CAST({{}} AS BOOLEAN) AND (a.goal IS NULL OR CAST(a.goal AS TEXT) = 'null')) AS done,
    make_interval(hours => a.cooldown_hours) AS cooldown
  FROM calling_call k JOIN calling_assignment a ON a.id = k.assignment_id
  JOIN org_unit o ON o.id = a.org_id
  WHERE k.id = {{}} AND k.caller_id = {{}} AND k.state = 'reserved'{in_assignment}
    AND """
    + path_under_sql("CAST({{}} AS TEXT)", "o.path")
    + """
), """
)
_PLAIN_CTES = (
    """rp_tg AS (
  UPDATE calling_target t SET current_call_id = NULL,
    state = CASE WHEN rp.done THEN 'done' ELSE 'open' END,
    available_at = CASE WHEN CAST({} AS BOOLEAN) THEN CAST({} AS TIMESTAMPTZ)
      WHEN rp.done THEN CAST({} AS TIMESTAMPTZ) ELSE CAST({} AS TIMESTAMPTZ) + rp.cooldown END,
    call_back_after = CAST({} AS TIMESTAMPTZ), attempts = t.attempts + 1,
    last_outcome = CAST({} AS TEXT), blocked = NULL
  FROM rp WHERE t.id = rp.target_id AND t.current_call_id = rp.id
  RETURNING t.id
), rp_lk AS (
  DELETE FROM calling_lock l USING rp WHERE l.call_id = rp.id AND EXISTS (SELECT 1 FROM rp_tg)
), rp_cl AS (
  UPDATE calling_call k SET state = 'reported', outcome = CAST({} AS TEXT),
    notes = CAST({} AS TEXT), call_back_after = CAST({} AS TIMESTAMPTZ),
    reported_at = CAST({} AS TIMESTAMPTZ), phone = CAST({} AS TEXT)
  FROM rp WHERE k.id = rp.id AND EXISTS (SELECT 1 FROM rp_tg)
  RETURNING k.id, k.person_id
), rp_au AS (
  """
    + audit_insert_sql("""
  SELECT CAST({} AS TIMESTAMPTZ), CAST({} AS INTEGER), CAST({} AS INTEGER), 'calling.reported',
    'person', rp_cl.person_id, rp.org_id,
    json_build_object('call_id', rp_cl.id, 'outcome', CAST({} AS TEXT))
  FROM rp_cl, rp""")
    + """
)"""
)


class PlainReport(msgspec.Struct, frozen=True):
    """A plain report (:func:`is_plain`) of the user's call, ready to run as SQL."""

    call_id: int
    org_path: str
    user_id: int
    token_id: int | None
    data: CallReport
    now: datetime

    def ctes(self, assignment_id: int | None = None) -> tuple[str, list[Any]]:
        """The report as the CTEs ``rp`` … ``rp_au`` and their arguments (PostgreSQL):
        check the call is the user's live reservation in an assignment visible from
        ``org_path`` (in ``assignment_id`` when given), move the target, report the call,
        drop the lock and audit it."""
        data, now = self.data, self.now
        call_back = data.outcome == "call_back"
        after = data.call_back_after if call_back else None
        in_assignment = "" if assignment_id is None else " AND k.assignment_id = {}"
        sql = _REPORTED_CALL.format(in_assignment=in_assignment) + _PLAIN_CTES
        scope = [] if assignment_id is None else [assignment_id]
        args = [
            *(data.outcome == "reached", self.call_id, self.user_id, *scope, self.org_path),
            *(call_back, after, now, now, after, data.outcome),
            *(data.outcome, data.notes, after, now, data.phone),
            *(now, self.user_id, self.token_id, data.outcome),
        ]
        return sql, args


def is_plain(data: CallReport, now: datetime) -> bool:
    """A report with nothing but an outcome (and notes): no answers, tags, consent, numbers or
    follow-ups, and a valid call-back time. Most reports are this."""
    if data.outcome == "call_back" and (
        data.call_back_after is None or data.call_back_after <= now
    ):
        return False
    return not (
        data.answers
        or data.add_tags
        or data.wants_local_contact
        or data.organizer_action
        or data.phone_opt_out
        or data.outcome in ("wrong_number", "do_not_call")
    )


async def report_plain(report: PlainReport) -> bool:
    """PostgreSQL: the plain report in ONE statement (see :meth:`PlainReport.ctes`). False
    when the statement found no such call (the caller then takes the full path, which says
    why)."""
    ctes, args = report.ctes()
    return bool(await db.fetch(f"WITH {ctes} SELECT id FROM rp_cl", *args))


def _lost() -> Problem:
    return Problem(409, "reservation-lost", "The reservation expired and another caller has it.")


def _target_change(
    data: CallReport, default_goal: bool, cooldown: timedelta, now: datetime
) -> tuple[str, datetime]:
    """The target's next state and ``available_at`` after this outcome."""
    if data.outcome == "do_not_call" or (data.outcome == "reached" and default_goal):
        return "done", now
    if data.outcome == "call_back":
        assert data.call_back_after is not None
        return "open", data.call_back_after
    if data.outcome == "wrong_number":
        return "open", now
    return "open", now + cooldown


async def report_call(
    call: dict[str, Any],
    assignment: dict[str, Any],
    survey: list[Question],
    default_goal: bool,
    data: CallReport,
    user_id: int,
    now: datetime,
) -> None:
    """Store the report of ``call`` (reserved by ``user_id``) with its audit row
    (``calling.reported``), in one transaction.

    Raises:
        Problem: 409 when the reservation expired and went to another caller, 422 naming the
            field for a missing call-back time, an unknown number or a wrong survey answer.
    """
    if call["state"] != "reserved":
        raise conflict(f"this call is {call['state']}, not reserved")
    if data.outcome == "call_back" and (
        data.call_back_after is None or data.call_back_after <= now
    ):
        raise invalid("call_back_after", "a call back needs a time in the future")
    answers = check_answers(survey, data.answers)
    person_id = call["person_id"]
    state, available_at = _target_change(
        data, default_goal, timedelta(hours=assignment["cooldown_hours"]), now
    )
    target = (
        state,
        available_at,
        data.call_back_after if data.outcome == "call_back" else None,
        data.outcome,
        call["target_id"],
        call["id"],
    )
    reported = (data.outcome, data.notes, data.phone, data.call_back_after, now, call["id"])
    async with db.transaction():
        taken = await db.fetch(_TARGET_SQL + " RETURNING id", *target)
        if not taken:
            raise _lost()
        if data.outcome == "wrong_number":
            await _wrong_number(person_id, data.phone, data.corrected_phone)
        await db.execute(_CALL_SQL, *reported)
        await db.execute("DELETE FROM calling_lock WHERE call_id = {}", call["id"])
        if answers:
            await CallAnswer.insert(
                *[
                    CallAnswer(
                        call=call["id"],
                        assignment_id=assignment["id"],
                        person=person_id,
                        question=q,
                        value=v,
                    )
                    for q, v in answers
                ]
            ).run()
        await _follow_ups(call, assignment, data, person_id)
        await record(
            "calling.reported",
            user_id=user_id,
            org_id=assignment["org_id"],
            object_type="person",
            object_id=person_id,
            detail={"call_id": call["id"], "outcome": data.outcome},
        )


async def _follow_ups(
    call: dict[str, Any], assignment: dict[str, Any], data: CallReport, person_id: int
) -> None:
    """Tags, consent and follow-ups asked for in the report."""
    if data.add_tags:
        org = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", assignment["org_id"])
        await add_tags(person_id, assignment["org_id"], org["path"], data.add_tags)
    if data.outcome == "do_not_call" or data.phone_opt_out:
        await record_consent(
            person_id,
            ConsentIn(
                channel="phone",
                status="withdrawn",
                source="call",
                reference=f"calling:call:{call['id']}",
            ),
        )
    items = []
    if data.wants_local_contact:
        items.append(("local_contact", "Wants contact with the local group"))
    if data.organizer_action:
        items.append(("organizer_action", data.organizer_action))
    if items:
        await FollowUp.insert(
            *[
                FollowUp(
                    person=person_id,
                    kind=kind,
                    message=message,
                    call_id=call["id"],
                    assignment_id=assignment["id"],
                )
                for kind, message in items
            ]
        ).run()
