"""Reminders and notices: scheduled as jobs in the transaction of the event change (outbox).

A reminder or notice job fans out into one mail per participant, each with a dedupe key made
of the event, the occasion and the participation, so a job that runs twice (after a crash)
sends every mail once. A reminder whose event has moved meanwhile is stale and does nothing:
the move scheduled a reminder for the new time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.api import current_runtime, db, enqueue, utcnow
from plugins.events.links import cancel_urls, mail_event, with_shift
from plugins.events.rows import get_event_row

__all__ = [
    "CANCEL_NOTICE_TO",
    "CHANGE_NOTICE_TO",
    "JOBS",
    "NOTICE_JOB",
    "REMINDER_JOB",
    "REMINDER_TO",
    "mail_plan",
    "recipient_count",
    "remind_late_booking",
    "schedule_notice",
    "schedule_reminder",
    "schedule_shift_notice",
    "schedule_shift_reminder",
]

REMINDER_JOB = "events.remind"
NOTICE_JOB = "events.notice"
REMINDER_TO = ("booked",)
CHANGE_NOTICE_TO = ("booked", "signed_up")
CANCEL_NOTICE_TO = ("booked", "signed_up", "waiting")
# Service mail about an event the person joined: needs an address and no do-not-contact.
_REACHABLE = (
    "FROM events_participation pa JOIN person p ON p.id = pa.person_id "
    "WHERE pa.event_id = {{}} AND pa.status IN ({marks}) "
    "AND p.email IS NOT NULL AND p.email <> '' AND NOT p.do_not_contact"
)


def _ts(row: dict[str, Any]) -> int:
    return int(row["start_at"].timestamp())


async def schedule_reminder(row: dict[str, Any]) -> None:
    """Queue the reminders of a published event that has not ended: the event's own (for
    people without a shift) and one per shift that has not ended, each due at the lead time
    before its start, at once when that has passed, also after the start (Zetkin #2433:
    people who join a running event need the details too); once per start time and lead."""
    now = utcnow()
    if row["state"] != "published" or row["end_at"] <= now or row["reminder_hours"] <= 0:
        return
    await enqueue(
        REMINDER_JOB,
        {"event_id": row["id"], "start_ts": _ts(row), "hours": row["reminder_hours"]},
        run_at=max(now, row["start_at"] - timedelta(hours=row["reminder_hours"])),
        dedupe_key=f"{REMINDER_JOB}:{row['id']}:{_ts(row)}:{row['reminder_hours']}",
    )
    for shift in await db.fetch(
        "SELECT id, start_at, end_at FROM events_shift WHERE event_id = {} AND end_at > {}",
        row["id"],
        now,
    ):
        await schedule_shift_reminder(row, shift)


async def schedule_shift_reminder(row: dict[str, Any], shift: dict[str, Any]) -> None:
    """Queue the reminder of one shift (not ended) of the published event ``row`` at
    ``reminder_hours`` before the shift's start, at once when that has passed (a moved shift
    gets a new one; the old one finds the start changed and does nothing)."""
    now = utcnow()
    if row["state"] != "published" or row["reminder_hours"] <= 0 or shift["end_at"] <= now:
        return
    hours = row["reminder_hours"]
    await enqueue(
        REMINDER_JOB,
        {"event_id": row["id"], "shift_id": shift["id"], "start_ts": _ts(shift), "hours": hours},
        run_at=max(now, shift["start_at"] - timedelta(hours=hours)),
        dedupe_key=f"{REMINDER_JOB}:{row['id']}:s{shift['id']}:{_ts(shift)}:{hours}",
    )


async def schedule_notice(row: dict[str, Any], kind: str) -> None:
    """Queue a ``changed`` or ``cancelled`` notice to the event's participants."""
    await enqueue(
        NOTICE_JOB,
        {"event_id": row["id"], "kind": kind, "seq": row["change_seq"]},
        dedupe_key=f"{NOTICE_JOB}:{row['id']}:{kind}:{row['change_seq']}",
    )


async def schedule_shift_notice(row: dict[str, Any], shift: dict[str, Any]) -> None:
    """Queue the ``changed`` notice to the people of a shift of a published event that
    moved (with the shift's new time); the event's other people hear nothing of it."""
    await enqueue(
        NOTICE_JOB,
        {
            "event_id": row["id"],
            "kind": "changed",
            "seq": shift["change_seq"],
            "shift_id": shift["id"],
        },
        dedupe_key=f"{NOTICE_JOB}:{row['id']}:s{shift['id']}:changed:{shift['change_seq']}",
    )


ALL_SHIFTS = "all"


async def _recipients(
    event_id: int, statuses: tuple[str, ...], shift: int | str | None
) -> list[dict[str, Any]]:
    """Participations of the event in ``statuses``: of one shift (an id), of none (``None``:
    people signed up for the event itself) or of all (``ALL_SHIFTS``: one row per person)."""
    marks = ", ".join(["{}"] * len(statuses))
    where, args = "", []
    if shift is None:
        where = "AND pa.shift_id IS NULL "
    elif shift != ALL_SHIFTS:
        where, args = "AND pa.shift_id = {} ", [shift]
    rows = await db.fetch(
        "SELECT pa.id AS participation_id, p.id AS person_id, p.first_name, p.last_name, "
        f"p.email, p.language {_REACHABLE.format(marks=marks)} {where}ORDER BY pa.id",
        event_id,
        *statuses,
        *args,
    )
    if shift == ALL_SHIFTS:  # a notice about the event goes once to someone with two shifts
        first: dict[int, dict[str, Any]] = {}
        for person in rows:
            first.setdefault(person["person_id"], person)
        rows = list(first.values())
    return rows


async def recipient_count(event_id: int, statuses: tuple[str, ...]) -> int:
    """How many people in ``statuses`` a reminder or notice reaches (the same people the jobs
    mail: with an address, not do-not-contact; someone with two shifts counts once)."""
    marks = ", ".join(["{}"] * len(statuses))
    row = await db.fetch_one(
        f"SELECT COUNT(DISTINCT p.id) AS n {_REACHABLE.format(marks=marks)}", event_id, *statuses
    )
    return int(row["n"]) if row else 0


async def mail_plan(row: dict[str, Any]) -> dict[str, Any]:
    """What goes out when for an event: the reminder's time (``None`` when switched off),
    whether that time has passed, and how many it reaches now; how many a cancellation
    notice would reach."""
    hours = row["reminder_hours"]
    at = row["start_at"] - timedelta(hours=hours) if hours > 0 else None
    return {
        "reminder_at": at,
        "reminder_due": at is not None and at <= utcnow(),
        "reminder_hours": hours,
        "reminder_to": await recipient_count(row["id"], REMINDER_TO),
        "change_to": await recipient_count(row["id"], CHANGE_NOTICE_TO),
        "cancel_to": await recipient_count(row["id"], CANCEL_NOTICE_TO),
    }


async def _send_all(
    row: dict[str, Any],
    template: str,
    key: str,
    statuses: tuple[str, ...],
    participation_id: int | None = None,
    shift: int | str | None = ALL_SHIFTS,
) -> None:
    runtime = current_runtime()
    org_id = row["org_id"]
    async with db.transaction():
        recipients = [
            person
            for person in await _recipients(row["id"], statuses, shift)
            if participation_id is None or person["participation_id"] == participation_id
        ]
        links = await cancel_urls(
            org_id, row["id"], {p["person_id"]: p["participation_id"] for p in recipients}
        )
        for person in recipients:
            locale = person["language"] or runtime.settings.locale
            await runtime.mailer.send(
                to_email=person["email"],
                to_name=f"{person['first_name']} {person['last_name']}".strip(),
                template=template,
                locale=locale,
                context={
                    "person": person,
                    "event": mail_event(row, locale),
                    "cancel_url": links[person["person_id"]],
                },
                dedupe_key=f"{key}:{person['participation_id']}",
                person_id=person["person_id"],
            )


async def _shift_row(shift_id: int) -> dict[str, Any] | None:
    return await db.fetch_one("SELECT * FROM events_shift WHERE id = {}", shift_id)


async def run_reminder(payload: dict[str, Any]) -> None:
    """Job ``events.remind``: mail booked participants of a still published, unmoved event
    (or, with ``shift_id``, of an unmoved shift of it, with the shift's time)."""
    row = await get_event_row(payload["event_id"])
    if row is None or row["state"] != "published":
        return  # gone or cancelled
    if payload.get("hours", row["reminder_hours"]) != row["reminder_hours"]:
        return  # the lead time changed; the reminder scheduled with the new one counts
    shift_id = payload.get("shift_id")
    if shift_id is None:
        if _ts(row) != payload["start_ts"]:
            return  # moved (the move scheduled a reminder for the new time)
        key = f"events.reminder:{row['id']}:{payload['start_ts']}"
        await _send_all(row, "mail/events_reminder", key, REMINDER_TO, shift=None)
        return
    shift = await _shift_row(shift_id)
    if shift is None or shift["event_id"] != row["id"] or _ts(shift) != payload["start_ts"]:
        return  # the shift is gone or moved (the move scheduled a new reminder)
    key = f"events.reminder:{row['id']}:s{shift_id}:{payload['start_ts']}"
    await _send_all(
        with_shift(row, shift), "mail/events_reminder", key, REMINDER_TO, shift=shift_id
    )


async def remind_late_booking(event_id: int, participation_id: int) -> None:
    """A person booked after the reminder of their event or shift went out gets theirs now,
    up to the end of the event or shift (Zetkin #2433: also once it has started); the same
    dedupe key, so never twice."""
    row = await get_event_row(event_id)
    now = utcnow()
    if row is None or row["state"] != "published" or row["reminder_hours"] <= 0:
        return
    place = await db.fetch_one(
        "SELECT shift_id FROM events_participation WHERE id = {}", participation_id
    )
    shift_id = place["shift_id"] if place else None
    shift = await _shift_row(shift_id) if shift_id is not None else None
    start = shift or row
    if not start["start_at"] - timedelta(hours=row["reminder_hours"]) <= now < start["end_at"]:
        return
    if shift is None:
        key = f"events.reminder:{row['id']}:{_ts(row)}"
        await _send_all(row, "mail/events_reminder", key, REMINDER_TO, participation_id, None)
        return
    key = f"events.reminder:{row['id']}:s{shift['id']}:{_ts(shift)}"
    await _send_all(
        with_shift(row, shift), "mail/events_reminder", key, REMINDER_TO, participation_id, shift_id
    )


async def run_notice(payload: dict[str, Any]) -> None:
    """Job ``events.notice``: tell participants the event moved or was cancelled (or, with
    ``shift_id``, the people of that shift that it moved)."""
    row = await get_event_row(payload["event_id"])
    if row is None:
        return
    shift_id = payload.get("shift_id")
    if shift_id is not None:
        shift = await _shift_row(shift_id)
        if shift is None or shift["event_id"] != row["id"] or row["state"] != "published":
            return  # the shift is gone, or the event cancelled (that notice counts)
        if shift["change_seq"] == payload["seq"]:  # else moved again: the newer notice counts
            key = f"events.notice:{row['id']}:s{shift_id}:changed:{payload['seq']}"
            await _send_all(
                with_shift(row, shift), "mail/events_changed", key, CHANGE_NOTICE_TO, shift=shift_id
            )
        return
    key = f"events.notice:{row['id']}:{payload['kind']}:{payload['seq']}"
    if payload["kind"] == "cancelled":
        await _send_all(row, "mail/events_cancelled", key, CANCEL_NOTICE_TO)
    elif row["change_seq"] == payload["seq"] and row["state"] == "published":
        await _send_all(row, "mail/events_changed", key, CHANGE_NOTICE_TO)


JOBS = {REMINDER_JOB: run_reminder, NOTICE_JOB: run_notice}
