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
from plugins.events.links import cancel_urls, mail_event
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
    """Queue the reminder of a published event that has not ended (once per start time and
    lead): due at the lead time before the start, at once when that has passed, also after
    the start (Zetkin #2433: people who join a running event need the details too)."""
    now = utcnow()
    if row["state"] != "published" or row["end_at"] <= now or row["reminder_hours"] <= 0:
        return
    run_at = max(now, row["start_at"] - timedelta(hours=row["reminder_hours"]))
    await enqueue(
        REMINDER_JOB,
        {"event_id": row["id"], "start_ts": _ts(row), "hours": row["reminder_hours"]},
        run_at=run_at,
        dedupe_key=f"{REMINDER_JOB}:{row['id']}:{_ts(row)}:{row['reminder_hours']}",
    )


async def schedule_notice(row: dict[str, Any], kind: str) -> None:
    """Queue a ``changed`` or ``cancelled`` notice to the event's participants."""
    await enqueue(
        NOTICE_JOB,
        {"event_id": row["id"], "kind": kind, "seq": row["change_seq"]},
        dedupe_key=f"{NOTICE_JOB}:{row['id']}:{kind}:{row['change_seq']}",
    )


async def _recipients(event_id: int, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    marks = ", ".join(["{}"] * len(statuses))
    return await db.fetch(
        "SELECT pa.id AS participation_id, p.id AS person_id, p.first_name, p.last_name, "
        f"p.email, p.language {_REACHABLE.format(marks=marks)} ORDER BY pa.id",
        event_id,
        *statuses,
    )


async def recipient_count(event_id: int, statuses: tuple[str, ...]) -> int:
    """How many participants in ``statuses`` a reminder or notice reaches (the same people
    the jobs mail: with an address, not do-not-contact)."""
    marks = ", ".join(["{}"] * len(statuses))
    row = await db.fetch_one(
        f"SELECT COUNT(*) AS n {_REACHABLE.format(marks=marks)}", event_id, *statuses
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
) -> None:
    runtime = current_runtime()
    org_id = row["org_id"]
    async with db.transaction():
        recipients = [
            person
            for person in await _recipients(row["id"], statuses)
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


async def run_reminder(payload: dict[str, Any]) -> None:
    """Job ``events.remind``: mail booked participants of a still published, unmoved event."""
    row = await get_event_row(payload["event_id"])
    if row is None or row["state"] != "published" or _ts(row) != payload["start_ts"]:
        return  # gone, cancelled or moved (the move scheduled a reminder for the new time)
    if payload.get("hours", row["reminder_hours"]) != row["reminder_hours"]:
        return  # the lead time changed; the reminder scheduled with the new one counts
    key = f"events.reminder:{row['id']}:{payload['start_ts']}"
    await _send_all(row, "mail/events_reminder", key, REMINDER_TO)


async def remind_late_booking(event_id: int, participation_id: int) -> None:
    """A person booked after the event's reminder went out gets theirs now, up to the event's
    end (Zetkin #2433: also once it has started); the same dedupe key, so never twice."""
    row = await get_event_row(event_id)
    now = utcnow()
    if row is None or row["state"] != "published" or row["reminder_hours"] <= 0:
        return
    if not row["start_at"] - timedelta(hours=row["reminder_hours"]) <= now < row["end_at"]:
        return
    key = f"events.reminder:{row['id']}:{_ts(row)}"
    await _send_all(row, "mail/events_reminder", key, REMINDER_TO, participation_id)


async def run_notice(payload: dict[str, Any]) -> None:
    """Job ``events.notice``: tell participants the event moved or was cancelled."""
    row = await get_event_row(payload["event_id"])
    if row is None:
        return
    key = f"events.notice:{row['id']}:{payload['kind']}:{payload['seq']}"
    if payload["kind"] == "cancelled":
        await _send_all(row, "mail/events_cancelled", key, CANCEL_NOTICE_TO)
    elif row["change_seq"] == payload["seq"] and row["state"] == "published":
        await _send_all(row, "mail/events_changed", key, CHANGE_NOTICE_TO)


JOBS = {REMINDER_JOB: run_reminder, NOTICE_JOB: run_notice}
