"""The organizer's console pages of one assignment: live progress, survey results and the call
log, with their downloads (issue #25, items 8 and 9).

Thin like the JSON routes: the figures come from :func:`plugins.calling.progress.progress_figures`
(:func:`plugins.calling.stats.assignment_stats`, the same as ``GET …/stats``, shared between
views while a big assignment's count is fresh), results and the log from
:mod:`plugins.calling.results`, which also audits what names people. Charts are SVG drawn
by the template, each with its table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import Stream

from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    console_form_errors,
    get_in_org,
    next_page_href,
    render_console,
    requires,
    translate,
    utcnow,
)
from plugins.calling import results
from plugins.calling.progress import progress_figures
from plugins.calling.tables import CallAssignment

__all__ = ["OUTCOME_LABELS", "progress_pages"]

MANAGE = [requires("calling.manage")]
LOG_PAGE_SIZE = 50
CHART_ROWS = 20  # the callers drawn in the chart (the table lists them all)
LIVE_SECONDS = 15  # the progress page follows the server this often where JavaScript runs
OUTCOME_LABELS = {
    "reached": N_("Reached"),
    "no_answer": N_("No answer"),
    "busy": N_("Busy"),
    "voicemail": N_("Voicemail"),
    "call_back": N_("Call back"),
    "not_available": N_("Not available"),
    "wrong_number": N_("Wrong number"),
    "do_not_call": N_("Does not want calls"),
}
BLOCKED_LABELS = {
    "cooldown": N_("Waiting out the cooldown"),
    "call_back": N_("Call back later"),
    "no_number": N_("No number"),
    "do_not_call": N_("Do not call"),
    "organizer_action": N_("Organizer action needed"),
}
_FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _base(org: OrgScope, assignment_id: int) -> str:
    return f"/app/orgs/{org.id}/calling/assignments/{assignment_id}"


def _crumbs(
    request: Request, org: OrgScope, assignment: dict[str, Any], page: tuple[str, str]
) -> list[tuple[str, str]]:
    return [
        (translate(request, "Call assignments"), f"/app/orgs/{org.id}/calling/assignments"),
        (assignment["title"], _base(org, assignment["id"])),
        page,
    ]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@get("/assignments/{assignment_id:int}/progress", guards=MANAGE)
async def progress_page(request: Request, org: OrgScope, assignment_id: int) -> Response[str]:
    """Done, ready and blocked by reason; per child unit, day and caller; outcome shares."""
    assignment = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    stats, counted_at = await progress_figures(assignment, org.path)
    title = translate(request, "Progress")
    blocked = [
        (translate(request, label), stats.blocked.get(key, 0))
        for key, label in BLOCKED_LABELS.items()
    ]
    units = [
        {**{f: getattr(row, f) for f in ("label", "targets", "done", "calls")}, "child": False}
        for row in stats.per_unit
    ]
    for row, shown in zip(stats.per_unit, units, strict=True):
        shown["child"] = row.parent != str(org.id)
        shown["share"] = _share(row.done, row.targets)
    return await render_console(
        request,
        "calling/progress.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, assignment, (title, request.url.path)),
        assignment=assignment,
        base=_base(org, assignment_id),
        stats=stats,
        share_done=_share(stats.done, stats.targets),
        blocked=blocked,
        unit_rows=units,
        outcomes=[
            (translate(request, OUTCOME_LABELS[key]), n, _share(n, stats.calls))
            for key, n in stats.outcomes.items()
        ],
        callers=[(row.label, row.calls) for row in stats.per_caller[:CHART_ROWS]],
        live=LIVE_SECONDS,
        now=counted_at,
    )


@get("/assignments/{assignment_id:int}/results", guards=MANAGE)
async def results_page(request: Request, org: OrgScope, assignment_id: int) -> Response[str]:
    """Per survey question the counts as a bar chart with its table, and the newest free-text
    answers (without names); links to the files."""
    assignment = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    title = translate(request, "Survey results")
    return await render_console(
        request,
        "calling/results.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, assignment, (title, request.url.path)),
        assignment=assignment,
        base=_base(org, assignment_id),
        questions=await results.survey_results(assignment),
        text_shown=results.TEXT_SHOWN,
    )


def _download(rows: Any, name: str, file_format: str) -> Stream:
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Stream(
        rows,
        media_type=_FILE_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.{file_format}"'},
    )


@get("/assignments/{assignment_id:int}/results/export", guards=MANAGE)
async def results_export(
    request: Request, actor: Actor, org: OrgScope, assignment_id: int, format: str = "csv"
) -> Stream:
    """Every reported call with its answers, one column per question (``format`` csv|xlsx;
    formula-safe, audited with the people in the file)."""
    assignment = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    rows = results.export_results(request, actor, assignment, format)
    return _download(rows, f"results-{assignment_id}", format)


_LOG_FIELDS = ("caller_id", "outcome", "since", "until")


@get("/assignments/{assignment_id:int}/log", guards=MANAGE)
async def log_page(
    request: Request,
    actor: Actor,
    org: OrgScope,
    assignment_id: int,
    caller_id: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
) -> Response[str]:
    """The reported calls, newest first, filtered by caller, outcome and days (audited)."""
    assignment = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    values = {"caller_id": caller_id, "outcome": outcome, "since": since, "until": until}
    values = {key: (value or "").strip() for key, value in values.items()}
    errors: dict[str, str] = {}
    page = None
    try:
        chosen = results.log_filter(**values)
        page = await results.call_log(request, actor, assignment, chosen, LOG_PAGE_SIZE, cursor)
    except Problem as exc:
        errors = console_form_errors(request, exc, _LOG_FIELDS)
    title = translate(request, "Call log")
    base = _base(org, assignment_id)
    return await render_console(
        request,
        "calling/log.html.jinja",
        status=422 if errors else 200,
        title=title,
        breadcrumbs=_crumbs(request, org, assignment, (title, base + "/log")),
        assignment=assignment,
        base=base,
        values=values,
        errors=errors,
        calls=page.items if page else [],
        callers=await results.log_callers(assignment_id),
        outcome_labels=OUTCOME_LABELS,
        export_query=urlencode({k: v for k, v in values.items() if v}),
        next_href=next_page_href(base + "/log", page.next_cursor, **values) if page else None,
    )


@get("/assignments/{assignment_id:int}/log/export", guards=MANAGE)
async def log_export(
    request: Request,
    actor: Actor,
    org: OrgScope,
    assignment_id: int,
    format: str = "csv",
    caller_id: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Stream:
    """The filtered call log as a file (``format`` csv|xlsx; formula-safe, audited)."""
    assignment = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    chosen = results.log_filter(caller_id, outcome, since, until)
    rows = results.export_log(request, actor, assignment, chosen, format)
    return _download(rows, f"calls-{assignment_id}", format)


def progress_pages() -> list[Any]:
    """The handlers of the progress, results and call log pages and their downloads (no menu
    entry: they are reached from the assignment's page)."""
    return [progress_page, results_page, results_export, log_page, log_export]
