"""The send job: render and deliver each recipient of a chunk exactly once.

* A recipient is rendered and delivered only while its row is ``queued``; the outcome is
  recorded with a conditional ``UPDATE … WHERE state = 'queued'`` right after the SMTP
  answer, one row at a time. A job that runs again (a crash, a lease taken over, a retry after
  a temporary error) finds those rows ``sent`` and skips them. Core's job claim is a
  conditional update too, so two workers never run the same job at once.
* The one window SMTP leaves open (the server accepted, the process died before the update)
  sends that one mail again with the SAME Message-ID (derived from mailing and recipient),
  which receiving systems use to drop the duplicate.
* Whether the person may still be mailed is checked at delivery time, so an unsubscribe,
  a do-not-contact flag, a bounce or an erasure after the freeze is honoured at once.
* Delivery goes through core's ``Mailer.deliver`` (SMTP pool, rate limit, DKIM, bounce
  suppression): there is one mail path.
"""

from __future__ import annotations

import time
from typing import Any

from core import db
from core.api import current_runtime, utcnow
from core.jobs.services import PermanentJobError
from core.mail.message import format_address
from core.mail.transport import TemporaryMailError
from core.templating import TemplateProblem, render_off_loop
from plugins.mailings.audience import deliverable_sql
from plugins.mailings.render import PERSON_FIELDS, Renderer, message_id
from plugins.mailings.sending import freeze, maybe_finish
from plugins.mailings.services import module_context, renderer_for

__all__ = ["run_send_job", "run_start_job"]

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
        f"SELECT r.id AS recipient_id, r.state, p.id AS id, {fields}, "
        f"CASE WHEN {deliverable_sql(mailing['org_id'])} THEN 1 ELSE 0 END AS ok "
        "FROM mailings_recipient r LEFT JOIN person p ON p.id = r.person_id "
        f"WHERE r.id IN ({marks}) ORDER BY r.id",
        *recipient_ids,
    )


async def run_send_job(payload: dict[str, Any]) -> None:
    """Deliver the chunk's queued recipients (idempotent; see the module docstring).

    Raises:
        TemporaryMailError: after the chunk when some server answered 4xx; the job is
            retried later and then only those rows are still queued.
    """
    mailing_id = int(payload["m"])
    mailing = await db.fetch_one("SELECT * FROM mailings_mailing WHERE id = {}", mailing_id)
    if mailing is None:
        return
    rows = [r for r in await _rows(mailing, list(payload["r"])) if r["state"] == "queued"]
    renderer = await _renderer(mailing)
    deferred: TemporaryMailError | None = None
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
            await _deliver(renderer, mailing, row)
        except TemporaryMailError as exc:
            deferred = exc
    await maybe_finish(mailing_id)
    if deferred is not None:
        raise deferred


async def _deliver(renderer: Renderer, mailing: dict[str, Any], person: dict[str, Any]) -> None:
    recipient_id = person["recipient_id"]
    try:
        extra = await module_context(person["id"], mailing["org_id"])
        rendered = await render_off_loop(renderer.render, person, recipient_id, extra)
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
    job["message_id"] = message_id(mailing["id"], recipient_id, mailing["sender_address"])
    try:
        delivered = await mailer.deliver(job)
    except PermanentJobError as exc:  # 5xx: core put the address on the suppression list
        await _finish_row(recipient_id, "bounced", str(exc)[:500])
        return
    await _finish_row(recipient_id, "sent" if delivered else "bounced")


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
