"""The send job: render and deliver each recipient of a chunk exactly once.

* A recipient is rendered and delivered only while its row is ``queued``; the outcome is
  recorded with a conditional ``UPDATE … WHERE state = 'queued'`` right after that
  recipient's own SMTP answer, before the next mail goes out. A job that runs again (a crash,
  a lease taken over, a retry after a temporary error) finds those rows ``sent`` and skips
  them. Core's job claim is a conditional update too, so two workers never run the same job
  at once.
* The one window SMTP leaves open (the server accepted, the process died before the update)
  is one mail per running job: it goes out again with the SAME Message-ID (the mailing's
  random ``send_key`` and the recipient), which receiving systems use to drop the duplicate.
* One recipient never blocks or repeats the others: what goes wrong for one (a 4xx for this
  mail, an address the server cannot carry, a template or data error) is recorded on its row
  and the chunk goes on. A deferred row stays ``queued`` with its ``error`` and ``attempts``;
  the job is retried with backoff for those rows only (it shows as retrying in
  ``GET /api/jobs``), and after :data:`RECIPIENT_ATTEMPTS` the row is ``failed``. Only an
  unreachable server (or a 421) stops the chunk: the next mails would fail the same way, and
  nobody's attempts are counted.
* Whether the person may still be mailed is checked at delivery time, so an unsubscribe,
  a do-not-contact flag, a bounce or an erasure after the freeze is honoured at once.
* Delivery goes through core's ``Mailer.deliver`` (SMTP pool, rate limit, DKIM, bounce
  suppression): there is one mail path.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from core.api import (
    TemplateProblem,
    TemporaryMailError,
    UndeliverableMail,
    current_runtime,
    db,
    format_address,
    link_keys,
    render_off_loop,
    utcnow,
)
from plugins.mailings.audience import deliverable_sql
from plugins.mailings.render import PERSON_FIELDS, Renderer, message_id
from plugins.mailings.sending import RECIPIENT_ATTEMPTS, freeze, maybe_finish
from plugins.mailings.services import module_context, renderer_for

__all__ = ["run_send_job", "run_start_job"]

log = logging.getLogger("orga.mailings")

STATE_CHECK_SECONDS = 0.5  # a pause or cancel takes effect within this time
_renderers: dict[tuple[int, int, str], Renderer] = {}


async def _renderer(mailing: dict[str, Any]) -> Renderer:
    """One renderer per runtime, mailing and version (templates compile once per process)."""
    key = (id(current_runtime()), mailing["id"], str(mailing["updated_at"]))
    renderer = _renderers.get(key)
    if renderer is None:
        if len(_renderers) > 32:
            _renderers.clear()
        renderer = _renderers[key] = await renderer_for(mailing)
    return renderer


async def _finish_row(recipient_id: int, state: str, error: str | None = None) -> None:
    await db.execute(
        "UPDATE mailings_recipient SET state = {}, sent_at = {}, error = {}, updated_at = {} "
        "WHERE id = {} AND state = 'queued'",
        state,
        utcnow() if state in ("sent", "bounced") else None,
        error,
        utcnow(),
        recipient_id,
    )


async def _defer_row(recipient_id: int, error: str) -> bool:
    """Count a failed attempt: the row stays queued with ``error``, or is ``failed`` once it
    reached :data:`RECIPIENT_ATTEMPTS`. Returns whether it stays queued."""
    rows = await db.fetch(
        "UPDATE mailings_recipient SET attempts = attempts + 1, error = {}, updated_at = {}, "
        "state = CASE WHEN attempts + 1 >= {} THEN 'failed' ELSE state END "
        "WHERE id = {} AND state = 'queued' RETURNING state",
        error[:500],
        utcnow(),
        RECIPIENT_ATTEMPTS,
        recipient_id,
    )
    return bool(rows) and rows[0]["state"] == "queued"


async def _hold_if_paused(mailing_id: int, recipient_ids: list[int]) -> str:
    """Park the rows as ``held`` if the mailing is (still) paused; returns its state.

    The mailing row is locked while deciding (``FOR UPDATE``; SQLite serializes writers),
    so a resume either comes first (the job goes on sending) or waits and then re-queues
    exactly the rows parked here: no row is left held without a job.
    """
    lock = " FOR UPDATE" if db.is_postgres() else ""
    async with db.transaction():
        row = await db.fetch_one(
            f"SELECT state FROM mailings_mailing WHERE id = {{}}{lock}", mailing_id
        )
        state = row["state"] if row else "gone"
        if state == "paused":
            marks = ", ".join(["{}"] * len(recipient_ids))
            await db.execute(
                "UPDATE mailings_recipient SET state = 'held', updated_at = {} "
                f"WHERE id IN ({marks}) AND state = 'queued'",
                utcnow(),
                *recipient_ids,
            )
    return state


async def _rows(mailing: dict[str, Any], recipient_ids: list[int]) -> list[dict[str, Any]]:
    """The chunk's rows with the person and whether they may be mailed now (one query)."""
    marks = ", ".join(["{}"] * len(recipient_ids))
    fields = ", ".join(f"p.{f} AS {f}" for f in PERSON_FIELDS if f != "id")
    return await db.fetch(
        f"SELECT r.id AS recipient_id, r.state, p.id AS id, {fields}, p.custom_fields, "
        f"CASE WHEN {deliverable_sql(mailing['org_id'])} THEN 1 ELSE 0 END AS ok "
        "FROM mailings_recipient r LEFT JOIN person p ON p.id = r.person_id "
        f"WHERE r.id IN ({marks}) ORDER BY r.id",
        *recipient_ids,
    )


async def run_send_job(payload: dict[str, Any]) -> None:
    """Deliver the chunk's queued recipients (idempotent; see the module docstring).

    Raises:
        TemporaryMailError: after the chunk when some recipient was deferred and may still be
            tried (the job is retried later and then only those rows are still queued), or at
            once when the server cannot be reached.
    """
    mailing_id = int(payload["m"])
    mailing = await db.fetch_one("SELECT * FROM mailings_mailing WHERE id = {}", mailing_id)
    if mailing is None:
        return
    rows = [r for r in await _rows(mailing, list(payload["r"])) if r["state"] == "queued"]
    keys = await link_keys([r["id"] for r in rows if r["id"] is not None and r["ok"]])
    for row in rows:
        row["link_key"] = keys.get(row["id"])
    renderer = await _renderer(mailing)
    deferred: list[str] = []
    checked = -1.0
    for index, row in enumerate(rows):
        if time.monotonic() - checked > STATE_CHECK_SECONDS:  # paused or cancelled meanwhile?
            state = await db.fetch_one(
                "SELECT state FROM mailings_mailing WHERE id = {}", mailing_id
            )
            checked = time.monotonic()
            if state is None or state["state"] != "sending":
                ids = [r["recipient_id"] for r in rows[index:]]
                if await _hold_if_paused(mailing_id, ids) != "sending":
                    return
        if not row["ok"]:  # erased, unsubscribed, bouncing or do-not-contact since the freeze
            await _finish_row(row["recipient_id"], "skipped")
            continue
        try:
            state, error = await _attempt(renderer, mailing, row)
        except TemporaryMailError as exc:
            if not exc.recipient:  # the server is out of reach: so are the next ones
                raise
            reason = str(exc)
        except Exception as exc:  # this recipient's data, or a bug: the others go on
            log.exception("mailing %s, recipient %s failed", mailing_id, row["recipient_id"])
            reason = f"{type(exc).__name__}: {exc}"
        else:
            # outside the try: if this cannot be recorded, the job stops (nothing more is sent)
            await _finish_row(row["recipient_id"], state, error)
            continue
        if await _defer_row(row["recipient_id"], reason):
            deferred.append(reason)
    await maybe_finish(mailing_id)
    if deferred:
        raise TemporaryMailError(f"{len(deferred)} recipient(s) deferred, last: {deferred[-1]}")


async def _attempt(
    renderer: Renderer, mailing: dict[str, Any], person: dict[str, Any]
) -> tuple[str, str | None]:
    """Render and send one recipient's mail; the row's outcome (state and error) to record."""
    recipient_id = person["recipient_id"]
    try:
        extra = await module_context(person["id"], mailing["org_id"])
        rendered = await render_off_loop(renderer.render, person, recipient_id, extra)
    except TemplateProblem as exc:
        return "failed", str(exc)[:500]
    mailer = current_runtime().mailer
    job = mailer.payload(
        to_email=person["email"],
        to_name=f"{person['first_name']} {person['last_name']}".strip(),
        rendered=rendered.mail,
        sender=format_address(mailing["sender_name"], mailing["sender_address"]),
        reply_to=mailing["reply_to"],
        headers=rendered.headers,
        bulk=True,
        person_id=person["id"],
    )
    job["message_id"] = message_id(mailing, recipient_id)
    try:
        delivered = await mailer.deliver(job)
    except UndeliverableMail as exc:  # a 5xx (core suppresses the address), or no SMTPUTF8
        return ("bounced" if exc.bounced else "failed"), str(exc)[:500]
    return ("sent" if delivered else "bounced"), None


async def run_start_job(payload: dict[str, Any]) -> None:
    """The scheduled start: freeze now unless the mailing was cancelled meanwhile."""
    row = await db.fetch_one(
        "SELECT m.state, o.path FROM mailings_mailing m JOIN org_unit o ON o.id = m.org_id "
        "WHERE m.id = {}",
        payload["mailing_id"],
    )
    if row is None or row["state"] != "scheduled":
        return
    await freeze(payload["mailing_id"], row["path"], from_states=("scheduled",))
