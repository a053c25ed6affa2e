"""Reporting a call: the outcome moves the person in the queue; answers, tags, consent and
follow-ups are stored in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core import db
from core.api import (
    ConsentIn,
    Problem,
    add_tags,
    conflict,
    current_runtime,
    invalid,
    record_consent,
)
from core.people.phones import normalize_phone
from core.people.services import refresh_phone_flag
from plugins.calling.schemas import CallReport, Question
from plugins.calling.tables import CallAnswer, FollowUp

__all__ = ["check_answers", "report_call"]

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


async def _wrong_number(person_id: int, phone: str | None) -> None:
    if not phone:
        raise invalid("phone", "which number was wrong?")
    e164 = normalize_phone(phone, current_runtime().settings.default_region) or phone
    rows = await db.fetch(
        "UPDATE person_phone SET valid = {} WHERE person_id = {} AND e164 = {} RETURNING id",
        False,
        person_id,
        e164,
    )
    if not rows:
        raise invalid("phone", "not a number of this person")
    await refresh_phone_flag([person_id])


_TARGET_SQL = (
    "UPDATE calling_target SET current_call_id = NULL, state = {}, available_at = {}, "
    "call_back_after = {}, attempts = attempts + 1, last_outcome = {}, blocked = NULL "
    "WHERE id = {} AND current_call_id = {}"
)
_CALL_SQL = (
    "UPDATE calling_call SET state = 'reported', outcome = {}, notes = {}, phone = {}, "
    "call_back_after = {}, reported_at = {} WHERE id = {}"
)
_REPORT_SQL = (
    f"WITH tg AS ({_TARGET_SQL} RETURNING id), "
    "lk AS (DELETE FROM calling_lock WHERE call_id = {} AND EXISTS (SELECT 1 FROM tg)), "
    f"cl AS ({_CALL_SQL} AND EXISTS (SELECT 1 FROM tg)) "
    "SELECT id FROM tg"
)


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
    """Store the report of ``call`` (reserved by ``user_id``).

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
    extras = bool(
        answers
        or data.add_tags
        or data.wants_local_contact
        or data.organizer_action
        or data.phone_opt_out
        or data.outcome in ("wrong_number", "do_not_call")
    )
    if db.is_postgres() and not extras:
        # the common report: one statement, atomic on its own (no BEGIN/COMMIT round trips)
        if not await db.fetch(_REPORT_SQL, *target, call["id"], *reported):
            raise _lost()
        return
    async with db.transaction():
        taken = await db.fetch(_TARGET_SQL + " RETURNING id", *target)
        if not taken:
            raise _lost()
        if data.outcome == "wrong_number":
            await _wrong_number(person_id, data.phone)
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
