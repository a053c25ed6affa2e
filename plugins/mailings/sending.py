"""Sending: freeze the recipients and queue their send jobs; pause, resume, cancel.

``send`` inserts one recipient row per person (unique per mailing and person) and the
``mailings.send`` jobs for them (each job names :data:`CHUNK` recipients; dedupe key
``mailings:<mailing>:<first recipient>:<round>``) in ONE transaction: either every recipient
is queued with its job, or nothing is. How a job delivers each recipient exactly once is in
:mod:`plugins.mailings.delivery`.

Pausing lets the jobs that come up park their rows as ``held``; resuming re-queues the held
rows with jobs of the next ``round``; cancelling marks every unsent row ``cancelled``.

Freezing also draws the mailing's random ``send_key``, part of each of its Message-IDs.
"""

from __future__ import annotations

import secrets
from typing import Any

from core.api import (
    TemplateProblem,
    compile_segment,
    conflict,
    current_runtime,
    db,
    enqueue,
    enqueue_many,
    invalid,
    render_off_loop,
    utcnow,
)
from plugins.mailings.audience import audience_breakdown, audience_segment, deliverable_sql
from plugins.mailings.services import audit, config, renderer_for

__all__ = [
    "CHUNK",
    "JOB_ATTEMPTS",
    "RECIPIENT_ATTEMPTS",
    "SEND_JOB",
    "START_JOB",
    "cancel",
    "freeze",
    "maybe_finish",
    "pause",
    "resume",
    "send_jobs",
    "start",
]

SEND_JOB = "mailings.send"
START_JOB = "mailings.start"
CHUNK = 25  # recipients per send job: one claim and one completion serve 25 mails
# A recipient whose mail was deferred (4xx) this often is failed: with core's backoff the
# last attempt comes about 3.4 hours after the first.
RECIPIENT_ATTEMPTS = 12
# A send job gets a few more, for runs that count against the job but no recipient (a worker
# that died, an unreachable server); when those run out too the job shows as failed.
JOB_ATTEMPTS = RECIPIENT_ATTEMPTS + 4


def _wake() -> None:
    worker = current_runtime().worker
    if worker is not None:
        db.after_commit(worker.wake)  # the jobs are there to claim once the request commits


async def _set_state(mailing_id: int, new: str, old: tuple[str, ...], **extra: Any) -> bool:
    """Move the mailing to ``new`` if it is in one of ``old``; False when it was not."""
    sets = ", ".join(f"{k} = {{}}" for k in extra)
    marks = ", ".join(["{}"] * len(old))
    rows = await db.fetch(
        f"UPDATE mailings_mailing SET state = {{}}, updated_at = {{}}{', ' if sets else ''}{sets} "
        f"WHERE id = {{}} AND state IN ({marks}) RETURNING id",
        new,
        utcnow(),
        *extra.values(),
        mailing_id,
        *old,
    )
    return bool(rows)


async def start(mailing: dict[str, Any], org_path: str, confirm: bool, count: int | None) -> None:
    """Check the confirmations, then freeze now or schedule the start; audited
    (``mailings.sent``).

    Raises:
        Problem: 422 without ``confirm``, without the right ``confirm_count`` above the
            threshold, or with a ``confirm_count`` that is not the number now; 409 when the
            mailing is not a draft; 422 on template errors.
    """
    if mailing["state"] != "draft":
        raise conflict(f"The mailing is {mailing['state']}, not a draft.", field="state")
    if not confirm:
        raise invalid("confirm", "sending needs confirm: true")
    segment = audience_segment(db.json_value(mailing["audience"]))
    breakdown = await audience_breakdown(segment, mailing["org_id"], org_path)
    threshold = config().confirm_threshold
    if breakdown["will_receive"] > threshold and count != breakdown["will_receive"]:
        raise invalid(
            "confirm_count",
            f"{breakdown['will_receive']} people will receive this mailing, more than "
            f"{threshold}: repeat that number in confirm_count to send",
        )
    if count is not None and count != breakdown["will_receive"]:
        raise invalid(
            "confirm_count",
            f"{breakdown['will_receive']} people will receive this mailing now, not {count}",
        )
    await _check_renders(mailing, segment, org_path)
    when = mailing["scheduled_at"]
    if when is not None and when > utcnow():
        async with db.transaction():
            if not await _set_state(mailing["id"], "scheduled", ("draft",)):
                raise conflict("The mailing is not a draft any more.", field="state")
            await enqueue(
                START_JOB,
                {"mailing_id": mailing["id"]},
                run_at=when,
                dedupe_key=f"mailings:start:{mailing['id']}",
            )
            await audit("mailings.sent", mailing)
        return
    await freeze(mailing["id"], org_path, from_states=("draft",))
    await audit("mailings.sent", mailing)


async def _check_renders(mailing: dict[str, Any], segment: Any, org_path: str) -> None:
    """Render once for the first person who will receive it (with what modules add), else a
    sample person, so a broken template never reaches the queue."""
    from plugins.mailings.services import SAMPLE_PERSON, module_context, template_problem

    where, args = await compile_segment(segment, org_path, "audience")
    person = await db.fetch_one(
        f"SELECT p.* FROM person p WHERE {where} AND {deliverable_sql(mailing['org_id'])} "
        "ORDER BY p.id LIMIT 1",
        *args,
    )
    person = person or dict(SAMPLE_PERSON)
    extra = await module_context(person["id"], mailing["org_id"])
    try:
        await render_off_loop((await renderer_for(mailing)).render, person, 0, extra)
    except TemplateProblem as exc:
        raise template_problem(exc) from exc


async def freeze(mailing_id: int, org_path: str, from_states: tuple[str, ...]) -> int:
    """Insert the recipient rows and their send jobs in one transaction; returns how many.

    Raises:
        Problem: 409 when the mailing left ``from_states`` meanwhile (a double click).
    """
    mailing = await db.fetch_one("SELECT * FROM mailings_mailing WHERE id = {}", mailing_id)
    assert mailing is not None
    segment = audience_segment(db.json_value(mailing["audience"]))
    where, args = await compile_segment(segment, org_path, "audience")
    now = utcnow()
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres() else "{}"
    async with db.transaction():
        started = await _set_state(
            mailing_id, "sending", from_states, started_at=now, send_key=secrets.token_hex(8)
        )
        if not started:
            raise conflict("The mailing is being sent already.", field="state")
        await db.execute(
            "INSERT INTO mailings_recipient (mailing_id, person_id, email, state, created_at, "
            f"updated_at) SELECT {int(mailing_id)}, p.id, p.email, 'queued', {stamp}, {stamp} "
            f"FROM person p WHERE {where} AND {deliverable_sql(mailing['org_id'])}",
            now,
            now,
            *args,
        )
        ids = await db.fetch(
            "SELECT id FROM mailings_recipient WHERE mailing_id = {} ORDER BY id", mailing_id
        )
        jobs = send_jobs(mailing_id, [r["id"] for r in ids], 0)
        await enqueue_many(SEND_JOB, jobs, max_attempts=JOB_ATTEMPTS)
        await db.execute(
            "UPDATE mailings_mailing SET total = {} WHERE id = {}", len(ids), mailing_id
        )
        if not ids:
            await _set_state(mailing_id, "sent", ("sending",), finished_at=now)
    _wake()
    return len(ids)


def send_jobs(
    mailing_id: int, recipient_ids: list[int], round_: int
) -> list[tuple[dict[str, Any], str]]:
    """Send jobs for ``recipient_ids``, :data:`CHUNK` recipients each, with dedupe keys.

    A recipient is in exactly one job per round (the key names the chunk's first recipient
    and the round), so a repeated enqueue adds nothing.
    """
    jobs = []
    for start in range(0, len(recipient_ids), CHUNK):
        ids = recipient_ids[start : start + CHUNK]
        jobs.append(({"m": mailing_id, "r": ids}, f"mailings:{mailing_id}:{ids[0]}:{round_}"))
    return jobs


async def pause(mailing: dict[str, Any]) -> None:
    """Stop sending; jobs that come up park their rows as ``held``. Audited
    (``mailings.paused``)."""
    if not await _set_state(mailing["id"], "paused", ("sending",)):
        raise conflict(f"The mailing is {mailing['state']}, not sending.", field="state")
    await audit("mailings.paused", mailing)


async def resume(mailing: dict[str, Any]) -> None:
    """Continue a paused send: held rows get jobs of the next round. Audited
    (``mailings.resumed``)."""
    async with db.transaction():
        row = await db.fetch_one(
            "UPDATE mailings_mailing SET state = 'sending', round = round + 1, updated_at = {} "
            "WHERE id = {} AND state = 'paused' RETURNING round",
            utcnow(),
            mailing["id"],
        )
        if row is None:
            raise conflict(f"The mailing is {mailing['state']}, not paused.", field="state")
        held = await db.fetch(
            "UPDATE mailings_recipient SET state = 'queued', updated_at = {} "
            "WHERE mailing_id = {} AND state = 'held' RETURNING id",
            utcnow(),
            mailing["id"],
        )
        ids = sorted(r["id"] for r in held)
        jobs = send_jobs(mailing["id"], ids, row["round"])
        await enqueue_many(SEND_JOB, jobs, max_attempts=JOB_ATTEMPTS)
    await maybe_finish(mailing["id"])
    await audit("mailings.resumed", mailing)
    _wake()


async def cancel(mailing: dict[str, Any]) -> None:
    """Stop for good: recipients not sent yet are cancelled (their jobs then do nothing).
    Audited (``mailings.cancelled``)."""
    async with db.transaction():
        if not await _set_state(
            mailing["id"], "cancelled", ("scheduled", "sending", "paused"), finished_at=utcnow()
        ):
            raise conflict(f"A mailing that is {mailing['state']} cannot be cancelled.")
        await db.execute(
            "UPDATE mailings_recipient SET state = 'cancelled', updated_at = {} "
            "WHERE mailing_id = {} AND state IN ('queued', 'held')",
            utcnow(),
            mailing["id"],
        )
        await audit("mailings.cancelled", mailing)


async def maybe_finish(mailing_id: int) -> None:
    """Mark the mailing sent when no recipient is queued or held any more."""
    left = await db.fetch_one(
        "SELECT 1 AS x FROM mailings_recipient WHERE mailing_id = {} "
        "AND state IN ('queued', 'held') LIMIT 1",
        mailing_id,
    )
    if left is None:
        await _set_state(mailing_id, "sent", ("sending",), finished_at=utcnow())
