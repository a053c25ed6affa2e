"""The one audit call: :func:`record`. Rows hold ids and action names, never personal data.

Reads of lists of people (list and search pages, previews, exports) go through
:func:`record_list`: one row per page with who, which unit, the filter and the ids of the
people shown. :func:`write_list_reads` hands the rows on after the response has gone out,
and they go in with those of other pages answered within 20 ms as one INSERT, so no page
waits for an audit write and a busy list costs a fraction of an INSERT a page.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from datetime import datetime
from typing import Any

import msgspec
from litestar import Litestar, Request

from core import db
from core.auth.actor import Actor
from core.context import acting, current_runtime
from core.orgs.paths import subtree_sql
from core.pagination import Page, check_limit, decode_cursor, page_of
from core.tables import utcnow

__all__ = [
    "about_person_sql",
    "audit_insert_sql",
    "audit_page",
    "flush_list_reads",
    "record",
    "record_list",
    "search_digest",
    "write_list_reads",
]

_PENDING = "orga_list_reads"
_BATCH = "orga_list_read_batch"
BATCH_SECONDS = 0.02
"""How long list-read rows wait for others to share their INSERT (lost if the process dies)."""
BATCH_ROWS = 500
"""Rows per INSERT at most (8 parameters each, well inside both databases' limits)."""
log = logging.getLogger("orga.audit")
_COLUMNS = "at, user_id, token_id, action, object_type, object_id, org_id, detail"


_ACTING: Any = object()  # default: whoever the current request acts as


async def record(
    action: str,
    *,
    user_id: int | None = _ACTING,
    token_id: int | None = _ACTING,
    object_type: str | None = None,
    object_id: int | None = None,
    org_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit row: in the current transaction when there is one; in a request that
    has written nothing yet, when the request succeeds (a refused request leaves no row, an
    audited read holds no transaction while it reads). Raw SQL: this runs on every
    personal-data read, and Piccolo's query building would cost more than the insert.

    Args:
        action: dotted action name, e.g. ``auth.login``, ``person.read``, ``module.enable``.
        user_id: who acted (``None`` for anonymous, e.g. a failed login for an unknown e-mail);
            default: the user the current request acts as (``core.context.acting``), so a
            service records its own operation without being handed the actor.
        token_id: the session or API token used (default: the current request's).
        object_type: kind of object acted on (``person``, ``user``, ``org_unit``…).
        object_id: its id.
        org_id: the org unit the action happened in.
        detail: ids and codes only (e.g. ``{"role": "caller"}``), never names or addresses.
    """
    if user_id is _ACTING or token_id is _ACTING:
        actor = acting()
        if user_id is _ACTING:
            user_id = actor.user_id if actor is not None else None
        if token_id is _ACTING:
            token_id = actor.token_id if actor is not None else None
    row = (utcnow(), user_id, token_id, action, object_type, object_id, org_id, detail)
    # in a request that wrote nothing yet, the row waits for its answer (core._unit)
    await db.on_success(lambda: _insert([row]))


async def _insert(rows: list[tuple[Any, ...]]) -> None:
    """One INSERT for audit rows ``(at, user_id, token_id, action, object_type, object_id,
    org_id, detail)``; ``detail`` is encoded here."""
    marks = ", ".join(["({}, {}, {}, {}, {}, {}, {}, {})"] * len(rows))
    values: list[Any] = []
    for *head, detail in rows:
        values += [*head, None if detail is None else msgspec.json.encode(detail).decode()]
    await db.execute(audit_insert_sql(f"VALUES {marks}"), *values)


def audit_insert_sql(rows: str) -> str:
    """``INSERT INTO audit_log (…) <rows>``, the one statement that writes audit rows.

    ``rows`` is a ``VALUES`` list or a ``SELECT`` yielding, in this order: ``at``, ``user_id``,
    ``token_id``, ``action``, ``object_type``, ``object_id``, ``org_id``, ``detail`` (JSON).
    Code that must audit in the same statement as its write (the calling queue's PostgreSQL
    CTEs, one round trip per call) embeds this instead of spelling out its own INSERT; the
    rules of :func:`record` (ids and codes, never personal data) hold the same."""
    return f"INSERT INTO audit_log ({_COLUMNS}) {rows}"


def record_list(
    request: Request,
    action: str,
    actor: Actor,
    org_id: int,
    people: list[int],
    filters: dict[str, Any] | None = None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
) -> None:
    """Audit one page (or export) of a list of people: one row, written after the response.

    Args:
        request: the request whose response shows the list.
        action: dotted action name, e.g. ``people.listed``.
        actor: who reads.
        org_id: the unit the list is of.
        people: the ids of the people shown. A streamed export may pass a list it fills while
            streaming: the row is written once the last byte has gone out.
        filters: the filter as codes (``None`` values are left out); a free-text search goes
            in as :func:`search_digest`, never as typed.
        object_type: what the list belongs to (e.g. ``event``), if anything.
        object_id: its id.
    """
    detail: dict[str, Any] = {"people": people}
    shown = {key: value for key, value in (filters or {}).items() if value is not None}
    if shown:
        detail["filter"] = shown
    row = (utcnow(), actor.user_id, actor.token_id, action, object_type, object_id, org_id, detail)
    request.state.setdefault(_PENDING, []).append(row)


class _Batch:
    """List-read rows of one app waiting for their common INSERT (see :func:`write_list_reads`)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.task: asyncio.Future[None] | None = None
        self.now = asyncio.Event()


async def write_list_reads(request: Request) -> None:
    """The app's ``after_response`` hook: hand the rows :func:`record_list` queued to the
    writer, which puts the rows of all pages answered within :data:`BATCH_SECONDS` into one
    INSERT. Nothing waits for it: the response is out, and the request ends. A failing handler
    queues nothing; a batch that cannot be written is logged as an error."""
    pending = request.state.get(_PENDING)
    if not pending:
        return
    state = request.app.state
    batch = state.get(_BATCH)
    if batch is None:
        batch = state[_BATCH] = _Batch()
    batch.rows += pending
    if batch.task is None:
        batch.task = asyncio.ensure_future(_write_soon(batch))


async def _write_soon(batch: _Batch) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(batch.now.wait(), BATCH_SECONDS)
    rows, batch.rows, batch.task = batch.rows, [], None
    batch.now.clear()
    try:
        for start in range(0, len(rows), BATCH_ROWS):
            await _insert(rows[start : start + BATCH_ROWS])
    except Exception:
        log.exception("%d audit rows of list reads lost", len(rows))


async def flush_list_reads(app: Litestar) -> None:
    """Write the list-read rows that still wait, now (at shutdown, before the database
    closes; tests)."""
    batch = app.state.get(_BATCH)
    while batch is not None and batch.task is not None:
        task = batch.task
        batch.now.set()
        await task


def about_person_sql() -> str:
    """SQL condition on ``audit_log a`` with two parameters (the person id twice): rows about
    the person, and list reads whose ``detail.people`` holds them."""
    if db.is_postgres():
        shown = "(a.detail::jsonb -> 'people') @> jsonb_build_array(CAST({} AS INTEGER))"
    else:
        shown = "EXISTS (SELECT 1 FROM json_each(a.detail, '$.people') WHERE value = {})"
    return f"((a.object_type = 'person' AND a.object_id = {{}}) OR {shown})"


def search_digest(text: str) -> str:
    """A keyed digest of a search text (blanks collapsed, lower-cased): the audit log tells
    whether two searches were for the same text, and an auditor can check a suspected text,
    without storing what was typed (an e-mail address, a phone number, a name)."""
    secret = current_runtime().settings.secret_key.encode()
    key = hmac.new(secret, b"orga-audit:search", hashlib.sha256).digest()
    normalized = " ".join(text.split()).lower()
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()[:32]


async def audit_page(
    org_path: str,
    *,
    user_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    person_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """The audit rows of the unit at ``org_path`` and its subtree, newest first, a keyset
    page; every filter given narrows it. ``person_id`` finds the rows about that person and
    the list reads that showed them (who saw this person); ``until`` is exclusive.

    Raises:
        Problem: 422 naming ``limit`` or ``cursor``.
    """
    check_limit(limit)
    within, within_args = subtree_sql("path", org_path)
    where = [f"a.org_id IN (SELECT id FROM org_unit WHERE {within})"]
    args: list[Any] = list(within_args)
    if person_id is not None:
        where.append(about_person_sql())
        args += [person_id, person_id]
    for clause, value in (
        ("a.user_id = {}", user_id),
        ("a.action = {}", action),
        ("a.object_type = {}", object_type),
        ("a.object_id = {}", object_id),
        ("a.at >= {}", since),
        ("a.at < {}", until),
    ):
        if value is not None:
            where.append(clause)
            args.append(value)
    key = decode_cursor(cursor)
    if key is not None:
        where.append("a.id < {}")
        args.append(int(key[0]))
    rows = await db.fetch(
        "SELECT a.id, a.at, a.user_id, a.token_id, a.action, a.object_type, a.object_id, "
        f"a.org_id, a.detail FROM audit_log a WHERE {' AND '.join(where)} "
        "ORDER BY a.id DESC LIMIT {}",
        *args,
        limit + 1,
    )
    for row in rows:
        row["detail"] = db.json_value(row["detail"])
    return page_of(rows, limit, key=lambda r: [r["id"]])
