"""What an assignment found out: survey counts and free-text answers, the call log, and both
as files (CSV through core's formula-safe writer, XLSX through openpyxl, which the people
import already reads with). Files and log pages name people, so they are audited as list reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec

from core.api import (
    N_,
    Actor,
    Page,
    check_limit,
    db,
    decode_cursor,
    invalid,
    page_of,
    record_list,
    spreadsheet_stream,
)
from plugins.calling.filters import Outcome
from plugins.calling.views import survey_of

__all__ = [
    "LOG_COLUMNS",
    "LogFilter",
    "QuestionResult",
    "call_log",
    "export_log",
    "export_results",
    "log_callers",
    "log_filter",
    "survey_results",
]

TEXT_SHOWN = 100  # free-text answers shown per question on the page (all are in the files)
LOG_COLUMNS = ("call_id", "reported_at", "caller", "person_id", "first_name", "last_name")
_OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]


class QuestionResult(msgspec.Struct):
    """One survey question: counts per option (choice) or the newest free-text answers."""

    key: str
    text: str
    kind: str
    counts: list[tuple[str, int]]
    answered: int
    texts: list[str]


async def survey_results(assignment: dict[str, Any]) -> list[QuestionResult]:
    """Counts per option of every choice question (options in survey order, also those never
    chosen) and the newest :data:`TEXT_SHOWN` answers of every text question; two grouped
    queries on the index ``calling_answer (assignment_id, question, value)``."""
    survey = survey_of(assignment)
    counted = await db.fetch(
        "SELECT question, value, COUNT(*) AS n FROM calling_answer WHERE assignment_id = {} "
        "GROUP BY question, value",
        assignment["id"],
    )
    answered = await db.fetch(
        "SELECT question, COUNT(DISTINCT call_id) AS n FROM calling_answer "
        "WHERE assignment_id = {} GROUP BY question",
        assignment["id"],
    )
    by_question: dict[str, dict[str, int]] = {}
    for row in counted:
        by_question.setdefault(row["question"], {})[row["value"]] = int(row["n"])
    calls = {row["question"]: int(row["n"]) for row in answered}
    results = []
    for question in survey:
        texts: list[str] = []
        counts: list[tuple[str, int]] = []
        values = by_question.get(question.key, {})
        if question.kind == "text":
            rows = await db.fetch(
                "SELECT value FROM calling_answer WHERE assignment_id = {} AND question = {} "
                "ORDER BY id DESC LIMIT {}",
                assignment["id"],
                question.key,
                TEXT_SHOWN,
            )
            texts = [row["value"] for row in rows]
        else:
            counts = [(option, values.get(option, 0)) for option in question.options]
            # answers to options removed from the survey later still count
            counts += [(v, n) for v, n in sorted(values.items()) if v not in question.options]
        results.append(
            QuestionResult(
                key=question.key,
                text=question.text,
                kind=question.kind,
                counts=counts,
                answered=calls.get(question.key, 0),
                texts=texts,
            )
        )
    return results


class LogFilter(msgspec.Struct, frozen=True):
    """The call log's filter: one caller, one outcome, reported from/to a day (UTC)."""

    caller_id: int | None = None
    outcome: str | None = None
    since: date | None = None
    until: date | None = None

    def codes(self) -> dict[str, Any]:
        """The filter as it goes into the audit row."""
        return {
            "caller_id": self.caller_id,
            "outcome": self.outcome,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def log_filter(
    caller_id: str | None, outcome: str | None, since: str | None, until: str | None
) -> LogFilter:
    """The filter from query parameters (empty means no condition).

    Raises:
        Problem: 422 naming the parameter that is not a number, an outcome or a date.
    """

    def day(name: str, value: str | None) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid(name, N_("Enter a date (YYYY-MM-DD).")) from None

    caller = None
    if caller_id:
        if not caller_id.isdecimal():
            raise invalid("caller_id", N_("Choose a caller from the list."))
        caller = int(caller_id)
    if outcome and outcome not in _OUTCOMES:
        raise invalid("outcome", N_("Choose an outcome from the list."))
    return LogFilter(caller, outcome or None, day("since", since), day("until", until))


def _log_where(assignment_id: int, chosen: LogFilter) -> tuple[str, list[Any]]:
    where = ["c.assignment_id = {}", "c.state = 'reported'"]
    args: list[Any] = [assignment_id]
    if chosen.caller_id is not None:
        where.append("c.caller_id = {}")
        args.append(chosen.caller_id)
    if chosen.outcome:
        where.append("c.outcome = {}")
        args.append(chosen.outcome)
    if chosen.since:
        where.append("c.reported_at >= {}")
        args.append(datetime.combine(chosen.since, time(), tzinfo=UTC))
    if chosen.until:
        where.append("c.reported_at < {}")
        args.append(datetime.combine(chosen.until + timedelta(days=1), time(), tzinfo=UTC))
    return " AND ".join(where), args


_LOG_SELECT = (
    "SELECT c.id AS call_id, c.reported_at, c.caller_id, u.display_name AS caller, "
    "c.person_id, p.first_name, p.last_name, c.outcome, c.notes, c.call_back_after "
    "FROM calling_call c JOIN orga_user u ON u.id = c.caller_id "
    "JOIN person p ON p.id = c.person_id "
)


async def call_log(
    request: Any,
    actor: Actor,
    assignment: dict[str, Any],
    chosen: LogFilter,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page (newest first) of the assignment's reported calls matching ``chosen``,
    audited as ``calling.log_listed`` with the people shown."""
    check_limit(limit)
    where, args = _log_where(assignment["id"], chosen)
    key = decode_cursor(cursor)
    if key is not None:
        where += " AND c.id < {}"
        args.append(int(key[0]))
    rows = await db.fetch(
        _LOG_SELECT + f"WHERE {where} ORDER BY c.id DESC LIMIT {{}}", *args, limit + 1
    )
    page = page_of(rows, limit, key=lambda r: [r["call_id"]])
    record_list(
        request,
        "calling.log_listed",
        actor,
        assignment["org_id"],
        [r["person_id"] for r in page.items],
        chosen.codes(),
        object_type="call_assignment",
        object_id=assignment["id"],
    )
    return page


async def log_callers(assignment_id: int) -> list[dict[str, Any]]:
    """The users who reported calls in the assignment (``id``, ``display_name``), by name:
    the choices of the log's caller filter."""
    return await db.fetch(
        "SELECT DISTINCT u.id, u.display_name FROM calling_call c "
        "JOIN orga_user u ON u.id = c.caller_id WHERE c.assignment_id = {} "
        "AND c.state = 'reported' ORDER BY u.display_name, u.id",
        assignment_id,
    )


async def _log_batches(
    assignment_id: int, chosen: LogFilter, batch: int = 5000
) -> AsyncIterator[list[dict[str, Any]]]:
    """The matching calls, oldest first, in keyset batches (flat memory)."""
    where, args = _log_where(assignment_id, chosen)
    last = 0
    while True:
        rows = await db.fetch(
            _LOG_SELECT + f"WHERE {where} AND c.id > {{}} ORDER BY c.id LIMIT {{}}",
            *args,
            last,
            batch,
        )
        if not rows:
            return
        yield rows
        last = rows[-1]["call_id"]


async def _answers(assignment_id: int, call_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    """The survey answers of these calls, by call and question."""
    found: dict[int, dict[str, list[str]]] = {}
    if not call_ids:
        return found
    marks = ", ".join(["{}"] * len(call_ids))
    rows = await db.fetch(
        "SELECT call_id, question, value FROM calling_answer WHERE assignment_id = {} "
        f"AND call_id IN ({marks}) ORDER BY id",
        assignment_id,
        *call_ids,
    )
    for row in rows:
        found.setdefault(row["call_id"], {}).setdefault(row["question"], []).append(row["value"])
    return found


async def _rows(
    assignment: dict[str, Any], chosen: LogFilter, with_answers: bool, shown: list[int]
) -> AsyncIterator[list[Any]]:
    """Header, then one row per call: the log's columns, outcome and notes, and with
    ``with_answers`` one column per survey question (several options joined by ``; ``)."""
    keys = [q.key for q in survey_of(assignment)] if with_answers else []
    yield [*LOG_COLUMNS, "outcome", "notes", *keys]
    async for batch in _log_batches(assignment["id"], chosen):
        answers = await _answers(assignment["id"], [r["call_id"] for r in batch]) if keys else {}
        for r in batch:
            shown.append(r["person_id"])
            given = answers.get(r["call_id"], {})
            yield [
                *(r[column] for column in LOG_COLUMNS),
                r["outcome"],
                r["notes"],
                *("; ".join(given.get(key, [])) for key in keys),
            ]


def _export(
    request: Any,
    actor: Actor,
    assignment: dict[str, Any],
    chosen: LogFilter,
    file_format: str,
    with_answers: bool,
    action: str,
) -> AsyncIterator[bytes]:
    if file_format not in ("csv", "xlsx"):
        raise invalid("format", N_("csv or xlsx"))
    shown: list[int] = []
    record_list(
        request,
        action,
        actor,
        assignment["org_id"],
        shown,
        {**chosen.codes(), "format": file_format},
        object_type="call_assignment",
        object_id=assignment["id"],
    )
    rows = _rows(assignment, chosen, with_answers, shown)
    return spreadsheet_stream(rows, file_format, "calls")


def export_results(
    request: Any, actor: Actor, assignment: dict[str, Any], file_format: str
) -> AsyncIterator[bytes]:
    """Every reported call with its survey answers as CSV or XLSX (``format``), audited as
    ``calling.results_exported`` with the people in the file once it has gone out."""
    return _export(
        request, actor, assignment, LogFilter(), file_format, True, "calling.results_exported"
    )


def export_log(
    request: Any, actor: Actor, assignment: dict[str, Any], chosen: LogFilter, file_format: str
) -> AsyncIterator[bytes]:
    """The call log matching ``chosen`` as CSV or XLSX, audited as ``calling.log_exported``."""
    return _export(request, actor, assignment, chosen, file_format, False, "calling.log_exported")
