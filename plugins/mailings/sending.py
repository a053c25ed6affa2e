"""Sending: freeze the recipients, one durable job per recipient, pause/resume/cancel.

Exactly once, across crashes and restarts:

* ``send`` inserts one recipient row per person (unique per mailing and person) and one
  ``mailings.send`` job per row (dedupe key ``mailings:<mailing>:<recipient>:<round>``) in
  ONE transaction: either every recipient is queued with its job, or nothing is.
* The job renders and delivers only while its row is ``queued`` and records the outcome with
  a conditional ``UPDATE … WHERE state = 'queued'``; a job that runs again (crash, lease
  taken over, duplicate) finds the row ``sent`` and does nothing. Core's job claim is a
  conditional update too, so two workers never run the same job at once.
* The one window SMTP leaves open (the server accepted, we crashed before the update) sends
  again with the SAME Message-ID, which receiving systems use to drop the duplicate.

Pausing lets queued jobs park their rows as ``held``; resuming re-queues held rows with jobs
of the next ``round``. Delivery goes through core's ``Mailer.deliver`` (transport pool, rate
limit, DKIM, bounce suppression), so there is one mail path.
"""

from __future__ import annotations

from typing import Any

from core import db
from core.api import conflict, current_runtime, invalid, utcnow
from core.jobs.services import PermanentJobError, enqueue, enqueue_many
from core.mail.message import format_address
from core.segments.compiler import compile_segment
from core.templating import TemplateProblem
from plugins.mailings.audience import audience_breakdown, deliverable_sql, segment_filters
from plugins.mailings.render import message_id
from plugins.mailings.services import config, module_context, renderer_for

__all__ = [
    "SEND_JOB",
    "START_JOB",
    "cancel",
    "freeze",
    "pause",
    "resume",
    "run_send_job",
    "run_start_job",
    "start",
]

SEND_JOB = "mailings.send"
START_JOB = "mailings.start"


def _wake() -> None:
    worker = current_runtime().worker
    if worker is not None:
        worker.wake()


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
    """Check the confirmations, then freeze now or schedule the start.

    Raises:
        Problem: 422 without ``confirm``, or without the right ``confirm_count`` above the
            threshold; 409 when the mailing is not a draft; 422 on template errors.
    """
    if mailing["state"] != "draft":
        raise conflict(f"The mailing is {mailing['state']}, not a draft.", field="state")
    if not confirm:
        raise invalid("confirm", "sending needs confirm: true")
    filters = segment_filters(db.json_value(mailing["audience"]))
    breakdown = await audience_breakdown(filters, mailing["org_id"], org_path)
    threshold = config().confirm_threshold
    if breakdown["will_receive"] > threshold and count != breakdown["will_receive"]:
        raise invalid(
            "confirm_count",
            f"{breakdown['will_receive']} people will receive this mailing, more than "
            f"{threshold}: repeat that number in confirm_count to send",
        )
    await _check_renders(mailing)
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
        return
    await freeze(mailing["id"], org_path, from_states=("draft",))


async def _check_renders(mailing: dict[str, Any]) -> None:
    """Render once for a sample person so a broken template never reaches the queue."""
    from plugins.mailings.services import SAMPLE_PERSON, template_problem

    try:
        (await renderer_for(mailing)).render(dict(SAMPLE_PERSON), 0)
    except TemplateProblem as exc:
        raise template_problem(exc) from exc


async def freeze(mailing_id: int, org_path: str, from_states: tuple[str, ...]) -> int:
    """Insert the recipient rows and their send jobs in one transaction; returns how many.

    Raises:
        Problem: 409 when the mailing left ``from_states`` meanwhile (a double click).
    """
    mailing = await db.fetch_one("SELECT * FROM mailings_mailing WHERE id = {}", mailing_id)
    assert mailing is not None
    filters = segment_filters(db.json_value(mailing["audience"]))
    where, args = await compile_segment(filters, org_path)
    now = utcnow()
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres() else "{}"
    async with db.transaction():
        if not await _set_state(mailing_id, "sending", from_states, started_at=now):
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
        await enqueue_many(
            SEND_JOB, [({"r": r["id"]}, f"mailings:{mailing_id}:{r['id']}:0") for r in ids]
        )
        await db.execute(
            "UPDATE mailings_mailing SET total = {} WHERE id = {}", len(ids), mailing_id
        )
        if not ids:
            await _set_state(mailing_id, "sent", ("sending",), finished_at=now)
    _wake()
    return len(ids)


async def pause(mailing: dict[str, Any]) -> None:
    """Stop sending; jobs that come up park their rows as ``held``."""
    if not await _set_state(mailing["id"], "paused", ("sending",)):
        raise conflict(f"The mailing is {mailing['state']}, not sending.", field="state")


async def resume(mailing: dict[str, Any]) -> None:
    """Continue a paused send: held rows get jobs of the next round."""
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
        key = f"mailings:{mailing['id']}:{{}}:{row['round']}"
        await enqueue_many(SEND_JOB, [({"r": r["id"]}, key.format(r["id"])) for r in held])
    await _maybe_finish(mailing["id"])
    _wake()


async def cancel(mailing: dict[str, Any]) -> None:
    """Stop for good: recipients not sent yet are cancelled (their jobs then do nothing)."""
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


async def _maybe_finish(mailing_id: int) -> None:
    """Mark the mailing sent when no recipient is queued or held any more."""
    left = await db.fetch_one(
        "SELECT 1 AS x FROM mailings_recipient WHERE mailing_id = {} "
        "AND state IN ('queued', 'held') LIMIT 1",
        mailing_id,
    )
    if left is None:
        await _set_state(mailing_id, "sent", ("sending",), finished_at=utcnow())


async def _finish_row(recipient_id: int, state: str, error: str | None = None) -> bool:
    rows = await db.fetch(
        "UPDATE mailings_recipient SET state = {}, sent_at = {}, error = {}, updated_at = {} "
        "WHERE id = {} AND state = 'queued' RETURNING id",
        state,
        utcnow() if state in ("sent", "bounced") else None,
        error,
        utcnow(),
        recipient_id,
    )
    return bool(rows)


_renderers: dict[tuple[int, str], Any] = {}


async def _renderer(mailing: dict[str, Any]) -> Any:
    """One renderer per mailing and version, kept for the process (templates compile once)."""
    key = (mailing["id"], str(mailing["updated_at"]))
    renderer = _renderers.get(key)
    if renderer is None:
        if len(_renderers) > 32:
            _renderers.clear()
        renderer = _renderers[key] = await renderer_for(mailing)
    return renderer


async def run_send_job(payload: dict[str, Any]) -> None:
    """Render and deliver one recipient's mail unless its row says otherwise (idempotent)."""
    recipient_id = int(payload["r"])
    row = await db.fetch_one(
        "SELECT r.state, r.mailing_id, r.person_id, m.state AS mailing_state, m.org_id "
        "FROM mailings_recipient r JOIN mailings_mailing m ON m.id = r.mailing_id "
        "WHERE r.id = {}",
        recipient_id,
    )
    if row is None or row["state"] != "queued":
        return
    if row["mailing_state"] == "paused":
        await db.execute(
            "UPDATE mailings_recipient SET state = 'held', updated_at = {} "
            "WHERE id = {} AND state = 'queued'",
            utcnow(),
            recipient_id,
        )
        return
    if row["mailing_state"] != "sending":
        return
    person = None
    if row["person_id"] is not None:
        person = await db.fetch_one(
            f"SELECT p.* FROM person p WHERE p.id = {{}} AND {deliverable_sql(row['org_id'])}",
            row["person_id"],
        )
    if person is None:  # erased, unsubscribed, bouncing or do-not-contact since the freeze
        await _finish_row(recipient_id, "skipped")
        await _maybe_finish(row["mailing_id"])
        return
    await _deliver(recipient_id, row["mailing_id"], person)
    await _maybe_finish(row["mailing_id"])


async def _deliver(recipient_id: int, mailing_id: int, person: dict[str, Any]) -> None:
    mailing = await _mailing(mailing_id)
    renderer = await _renderer(mailing)
    try:
        extra = await module_context(person["id"], mailing["org_id"])
        rendered = renderer.render(person, recipient_id, extra)
    except TemplateProblem as exc:
        await _finish_row(recipient_id, "failed", str(exc)[:500])
        return
    mailer = current_runtime().mailer
    job = mailer.payload(
        to_email=person["email"],
        to_name=f"{person['first_name']} {person['last_name']}".strip(),
        rendered=rendered.mail,
        sender=format_address(mailing["sender_name"], mailing["sender_address"]),
        reply_to=mailing["reply_to"],
        headers=rendered.headers,
        bulk=True,
    )
    job["message_id"] = message_id(mailing_id, recipient_id, mailing["sender_address"])
    try:
        delivered = await mailer.deliver(job)
    except PermanentJobError as exc:
        await _finish_row(recipient_id, "bounced", str(exc)[:500])
        return
    await _finish_row(recipient_id, "sent" if delivered else "bounced")


_mailings: dict[int, tuple[float, dict[str, Any]]] = {}


async def _mailing(mailing_id: int) -> dict[str, Any]:
    """The mailing row, cached for a second (thousands of jobs read the same row)."""
    import time

    cached = _mailings.get(mailing_id)
    if cached and time.monotonic() - cached[0] < 1.0:
        return cached[1]
    row = await db.fetch_one("SELECT * FROM mailings_mailing WHERE id = {}", mailing_id)
    assert row is not None
    if len(_mailings) > 64:
        _mailings.clear()
    _mailings[mailing_id] = (time.monotonic(), row)
    return row


async def run_start_job(payload: dict[str, Any]) -> None:
    """The scheduled start: freeze now unless the mailing was cancelled meanwhile."""
    row = await db.fetch_one(
        "SELECT state FROM mailings_mailing WHERE id = {}", payload["mailing_id"]
    )
    if row is None or row["state"] != "scheduled":
        return
    org = await db.fetch_one(
        "SELECT o.path FROM org_unit o JOIN mailings_mailing m ON m.org_id = o.id WHERE m.id = {}",
        payload["mailing_id"],
    )
    await freeze(payload["mailing_id"], org["path"], from_states=("scheduled",))
