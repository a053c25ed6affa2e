"""The organizer's console pages of the calling module: the unit's call assignments (list,
create, edit with the segment builder for target and goal, a survey, a Markdown preview;
duplicate, close) and their callers (add, change tags, remove).

Thin like the JSON routes in ``routes.py``: each handler reads the form and calls the same
service as the route (:mod:`plugins.calling.assignments`, :mod:`plugins.calling.roster`),
which audits its own operation. Mounted under ``/app/orgs/{org_id}/calling``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import MediaType, Request, Response, get, post

from core import MenuItem
from core.api import (
    GROUP_LABELS,
    N_,
    BuilderState,
    OrgScope,
    Problem,
    apply_builder_action,
    check_limit,
    console_form_errors,
    console_locale,
    count_text,
    db,
    get_in_org,
    next_page_href,
    page_in_org,
    parse_segment,
    read_builder,
    render_console,
    requires,
    see_other,
    segment_params,
    translate,
    utcnow,
)
from plugins.calling import assignments, roster
from plugins.calling.schemas import AssignmentIn, AssignmentPatch, CallerIn
from plugins.calling.tables import CallAssignment

__all__ = ["ORGANIZER_MENU", "organizer_pages"]

MANAGE = [requires("calling.manage")]
PAGE_SIZE = 50
TARGET, GOAL = "target", "goal"
STATE_LABELS = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "open": N_("Open"),
    "closed": N_("Closed"),
}
KIND_LABELS = {"text": N_("Free text"), "choice": N_("Choice")}
_FIELDS = (
    "title",
    "description",
    "instructions",
    "target",
    "goal",
    "cooldown_hours",
    "start_at",
    "end_at",
    "show_earlier_notes",
    "survey",
)
_QUESTION = re.compile(r"^survey\.(\d{1,2})\.(key|text|kind|options|multiple)$")
_CALLER_FIELDS = ("user_id", "prioritized_tags", "excluded_tags")

ORGANIZER_MENU = (
    MenuItem(label=N_("Calls"), path="assignments", permission="calling.manage", order=40),
)
"""The organizer's menu entry (the module's ``register_pages`` adds it)."""


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/calling/assignments"


def _crumbs(request: Request, org: OrgScope, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(translate(request, "Call assignments"), _base(org)), *more]


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.orga.settings.timezone)


async def _assignment(org: OrgScope, assignment_id: int) -> dict[str, Any]:
    """The unit's assignment (404 for another unit's, as the JSON route)."""
    return await get_in_org(CallAssignment, assignment_id, org, "call assignment")


@get("/assignments", guards=MANAGE)
async def assignment_list(request: Request, org: OrgScope, cursor: str | None = None) -> Response:
    """The unit's assignments, newest first, with state and progress (done of targets)."""
    page = await page_in_org(CallAssignment, org, check_limit(PAGE_SIZE), cursor)
    progress = await assignments.progress_counts([r["id"] for r in page.items])
    now = utcnow()
    rows = [
        {
            "id": r["id"],
            "title": r["title"],
            "state": assignments.assignment_state(r["start_at"], r["end_at"], now),
            "start_at": r["start_at"],
            "end_at": r["end_at"],
            "targets": progress.get(r["id"], (0, 0))[0],
            "done": progress.get(r["id"], (0, 0))[1],
        }
        for r in page.items
    ]
    return await render_console(
        request,
        "calling/assignments.html.jinja",
        title=translate(request, "Call assignments"),
        base=_base(org),
        rows=rows,
        state_labels=STATE_LABELS,
        next_href=next_page_href(_base(org), page.next_cursor),
    )


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored time as a ``datetime-local`` input's value."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _row_values(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """An assignment's form values."""
    return {
        "title": row["title"],
        "description": row["description"],
        "instructions": row["instructions"],
        "cooldown_hours": str(row["cooldown_hours"]),
        "start_at": _local(row["start_at"], zone),
        "end_at": _local(row["end_at"], zone),
        "show_earlier_notes": bool(row["show_earlier_notes"]),
        "survey": [
            {
                "key": q["key"],
                "text": q["text"],
                "kind": q.get("kind", "text"),
                "options": "\n".join(q.get("options") or []),
                "multiple": bool(q.get("multiple")),
            }
            for q in db.json_value(row["survey"]) or []
        ],
    }


def _survey(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The survey questions of the form (``survey.<n>.<field>``), in their order."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in pairs:
        if match := _QUESTION.match(key):
            found.setdefault(int(match[1]), {})[match[2]] = value
    return [
        {
            "key": q.get("key", "").strip(),
            "text": q.get("text", "").strip(),
            "kind": q.get("kind") if q.get("kind") in KIND_LABELS else "text",
            "options": q.get("options", ""),
            "multiple": q.get("multiple") == "yes",
        }
        for _index, q in sorted(found.items())
    ]


def _new_key(survey: list[dict[str, Any]]) -> str:
    """A question key not taken yet (``q1``, ``q2``, …)."""
    taken = {q["key"] for q in survey}
    return next(f"q{n}" for n in range(1, 100) if f"q{n}" not in taken)


def _form_values(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The assignment form's values as typed (shown again as they are)."""
    given = dict(pairs)
    return {
        "title": given.get("title", "").strip(),
        "description": given.get("description", ""),
        "instructions": given.get("instructions", ""),
        "cooldown_hours": given.get("cooldown_hours", "").strip(),
        "start_at": given.get("start_at", "").strip(),
        "end_at": given.get("end_at", "").strip(),
        "show_earlier_notes": given.get("show_earlier_notes") == "yes",
        "survey": _survey(pairs),
    }


def _parsed(
    values: dict[str, Any], zone: ZoneInfo, request: Request
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as the API's input takes them, and the errors of the inputs the
    API's types cannot name (a date that is none)."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "instructions": values["instructions"],
        "show_earlier_notes": values["show_earlier_notes"],
        "survey": [
            {
                "key": q["key"],
                "text": q["text"],
                "kind": q["kind"],
                "options": [o.strip() for o in q["options"].splitlines() if o.strip()]
                if q["kind"] == "choice"
                else [],
                "multiple": q["multiple"] and q["kind"] == "choice",
            }
            for q in values["survey"]
        ],
    }
    hours = values["cooldown_hours"]
    data["cooldown_hours"] = int(hours) if hours.isdecimal() else hours or 24
    for name in ("start_at", "end_at"):
        text = values[name]
        if not text:
            data[name] = None
            continue
        try:
            data[name] = datetime.fromisoformat(text).replace(tzinfo=zone).isoformat()
        except ValueError:
            errors[name] = translate(request, "Enter a date and a time.")
    return data, errors


def _field_errors(request: Request, exc: Exception) -> dict[str, str]:
    """The errors of a failed save beside the inputs: the API's field paths
    (``survey[0].options``) as the form's names (``survey.0.options``)."""
    if isinstance(exc, msgspec.ValidationError):
        text, _, path = str(exc).partition(" - at `$")
        found = {_dotted(path.rstrip("`").lstrip(".")) or "form": text}
    elif isinstance(exc, Problem) and exc.error_ids:
        found = {_dotted(name): message for name, message in exc.error_ids.items()}
    else:
        return console_form_errors(request, exc, _FIELDS)
    names = [*_FIELDS, *(n for n in found if n.startswith("survey."))]
    return console_form_errors(request, found, names)


def _dotted(path: str) -> str:
    """``survey[0].options`` → ``survey.0.options``; a segment's inner path → its field."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", path)
    head = dotted.split(".")[0]
    return head if head in (TARGET, GOAL) else dotted


async def _render_form(
    request: Request,
    org: OrgScope,
    values: dict[str, Any],
    pairs: list[tuple[str, str]],
    *,
    row: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    fixed: tuple[str, ...] = (),
) -> Response[str]:
    """The assignment form (new when ``row`` is ``None``) with both builders read from
    ``pairs`` and the instructions' preview; ``fixed`` names the segments the builder cannot
    show (kept as they are)."""
    target = await read_builder(request, org, pairs, narrow=False, root=TARGET)
    goal = await read_builder(request, org, pairs, narrow=False, root=GOAL)
    if row is None:
        title = translate(request, "New call assignment")
        action = f"{_base(org)}/new"
        crumbs = _crumbs(request, org, (title, action))
    else:
        title = row["title"]
        action = f"{_base(org)}/{row['id']}"
        crumbs = _crumbs(request, org, (title, action))
    invalid = bool(errors) or target.invalid or goal.invalid
    locale = console_locale(request)
    return await render_console(
        request,
        "calling/assignment_form.html.jinja",
        status=422 if invalid and status == 200 else status,
        title=title,
        breadcrumbs=crumbs,
        action=action,
        base=_base(org),
        row=row,
        state=None
        if row is None
        else assignments.assignment_state(row["start_at"], row["end_at"], utcnow()),
        state_labels=STATE_LABELS,
        values=values,
        errors=errors or {},
        target=target,
        goal=goal,
        target_count=_count(target, locale),
        goal_count=_count(goal, locale),
        fixed=fixed,
        group_labels=GROUP_LABELS,
        kind_labels=KIND_LABELS,
        preview=assignments.instructions_html(values["instructions"])
        if values["instructions"].strip()
        else None,
    )


def _count(state: BuilderState, locale: str) -> str:
    return "" if state.count is None else count_text(state.count, locale)


def _changed_form(request: Request, pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The form after one of its editing buttons (a builder's add / remove, add or remove a
    question); ``None`` when the form was sent to be saved or previewed."""
    for root in (TARGET, GOAL):
        moved = apply_builder_action(request, pairs, root)
        if moved is not None:
            return moved[0]
    given = dict(pairs)
    if "add_question" in given:
        survey = _survey(pairs)
        n = len(survey)
        return [
            *pairs,
            (f"survey.{n}.key", _new_key(survey)),
            (f"survey.{n}.text", ""),
            (f"survey.{n}.kind", "text"),
        ]
    if "remove_question" in given:
        drop = given["remove_question"]
        kept = [(k, v) for k, v in pairs if not k.startswith(f"survey.{drop}.")]
        return [(k, v) for k, v in kept if k != "remove_question"]
    return None


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


async def _segments(
    request: Request, org: OrgScope, pairs: list[tuple[str, str]], errors: dict[str, str]
) -> tuple[Any, Any, bool]:
    """The target and goal segments of the form (JSON data) and whether a builder is
    wrong; an empty target is an error beside it, an empty goal means "reached"."""
    target = await read_builder(request, org, pairs, narrow=False, root=TARGET)
    goal = await read_builder(request, org, pairs, narrow=False, root=GOAL)
    if target.segment is None and not target.invalid:
        errors[TARGET] = translate(request, "Add a condition first.")
    wrong = target.invalid or goal.invalid
    return (
        None if target.segment is None else msgspec.to_builtins(target.segment),
        None if goal.segment is None else msgspec.to_builtins(goal.segment),
        wrong,
    )


@get("/assignments/new", guards=MANAGE)
async def assignment_new(request: Request, org: OrgScope) -> Response[str]:
    """The form for a new assignment: a draft until it has a start."""
    values = _form_values([("cooldown_hours", "24")])
    return await _render_form(request, org, values, [(TARGET, "all"), (GOAL, "all")])


@post("/assignments/new", guards=MANAGE, status_code=303)
async def assignment_create(request: Request, org: OrgScope) -> Response:
    """Create the assignment (the same service as ``POST …/calling/assignments``); the
    builders' and the survey's buttons and "Preview" show the form again."""
    pairs = await _form_pairs(request)
    changed = _changed_form(request, pairs)
    if changed is not None:
        return await _render_form(request, org, _form_values(changed), changed)
    values = _form_values(pairs)
    if "preview" in dict(pairs):
        return await _render_form(request, org, values, pairs)
    data, errors = _parsed(values, _zone(request), request)
    target, goal, wrong = await _segments(request, org, pairs, errors)
    if not errors and not wrong:
        try:
            body = msgspec.convert({**data, "target": target, "goal": goal}, AssignmentIn)
            row = await assignments.create_assignment(org.id, org.path, body)
        except (msgspec.ValidationError, Problem) as exc:
            errors = _field_errors(request, exc)
        else:
            message = translate(request, "Saved. Now add the callers.")
            return see_other(f"{_base(org)}/{row['id']}/callers", message)
    return await _render_form(request, org, values, pairs, errors=errors, status=422)


async def _stored_pairs(
    request: Request, org: OrgScope, row: dict[str, Any]
) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """The builders' fields of a stored assignment, and the segments they cannot show."""
    pairs: list[tuple[str, str]] = []
    fixed: list[str] = []
    for root in (TARGET, GOAL):
        data = db.json_value(row[root])
        if data is None:
            pairs.append((root, "all"))
            continue
        shown = await segment_params(request, org, data, root)
        if shown is None:
            fixed.append(root)
        else:
            pairs += shown
    return pairs, tuple(fixed)


@get("/assignments/{assignment_id:int}", guards=MANAGE)
async def assignment_edit(request: Request, org: OrgScope, assignment_id: int) -> Response:
    """The assignment's form, filled in, with duplicate, close and its callers."""
    row = await _assignment(org, assignment_id)
    pairs, fixed = await _stored_pairs(request, org, row)
    values = _row_values(row, _zone(request))
    return await _render_form(request, org, values, pairs, row=row, fixed=fixed)


def _same_segment(stored: Any, given: Any) -> bool:
    """Whether the form's segment is the stored one (the queue is refreshed only for a new
    target)."""
    if stored is None or given is None:
        return stored is given
    return msgspec.to_builtins(parse_segment(stored, "segment")) == given


@post("/assignments/{assignment_id:int}", guards=MANAGE, status_code=303)
async def assignment_update(request: Request, org: OrgScope, assignment_id: int) -> Response:
    """Save the changes (the same service as ``PATCH …/calling/assignments/{id}``)."""
    row = await _assignment(org, assignment_id)
    _stored, fixed = await _stored_pairs(request, org, row)
    pairs = await _form_pairs(request)
    changed = _changed_form(request, pairs)
    if changed is not None:
        values = _form_values(changed)
        return await _render_form(request, org, values, changed, row=row, fixed=fixed)
    values = _form_values(pairs)
    if "preview" in dict(pairs):
        return await _render_form(request, org, values, pairs, row=row, fixed=fixed)
    data, errors = _parsed(values, _zone(request), request)
    target, goal, wrong = await _segments(request, org, pairs, errors)
    for root, given in ((TARGET, target), (GOAL, goal)):
        if root in fixed:
            errors.pop(root, None)
        elif not _same_segment(db.json_value(row[root]), given):
            data[root] = given
    if not errors and not wrong:
        try:
            patch = msgspec.convert(data, AssignmentPatch)
            await assignments.update_assignment(row, org.path, patch)
        except (msgspec.ValidationError, Problem) as exc:
            errors = _field_errors(request, exc)
        else:
            return see_other(f"{_base(org)}/{assignment_id}", translate(request, "Saved."))
    return await _render_form(
        request, org, values, pairs, row=row, errors=errors, status=422, fixed=fixed
    )


@post("/assignments/preview", guards=MANAGE, status_code=200)
async def instructions_preview(request: Request) -> Response[bytes]:
    """The instructions' Markdown as HTML for ``console.js``'s live preview (the form's
    "Preview" button shows the same without JavaScript): ``{"html": …}``."""
    pairs = await _form_pairs(request)
    html = str(assignments.instructions_html(dict(pairs).get("instructions", "")))
    return Response(msgspec.json.encode({"html": html}), media_type=MediaType.JSON)


@post("/assignments/{assignment_id:int}/duplicate", guards=MANAGE, status_code=303)
async def assignment_duplicate(request: Request, org: OrgScope, assignment_id: int) -> Response:
    """A draft copy with the settings, survey and callers (the JSON route's service)."""
    row = await _assignment(org, assignment_id)
    title = translate(request, "Copy of %(title)s", title=row["title"])
    copy = await roster.duplicate_assignment(row, org.path, title)
    message = translate(request, "Duplicated: this is the copy, a draft.")
    return see_other(f"{_base(org)}/{copy['id']}", message)


@post("/assignments/{assignment_id:int}/close", guards=MANAGE, status_code=303)
async def assignment_close(request: Request, org: OrgScope, assignment_id: int) -> Response:
    """End the assignment now (the JSON route's ``PATCH`` with ``end_at``)."""
    row = await _assignment(org, assignment_id)
    await assignments.close_assignment(row, org.path)
    message = translate(request, "The assignment is closed; nobody gets calls from it now.")
    return see_other(f"{_base(org)}/{assignment_id}", message)


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


async def _render_callers(
    request: Request,
    org: OrgScope,
    row: dict[str, Any],
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    title = translate(request, "Callers")
    link = f"{_base(org)}/{row['id']}"
    callers = [
        {
            "user_id": c["user_id"],
            "display_name": c["display_name"],
            "prioritized_tags": ", ".join(db.json_value(c["prioritized_tags"]) or []),
            "excluded_tags": ", ".join(db.json_value(c["excluded_tags"]) or []),
            "calls": int(c["calls"]),
        }
        for c in await roster.roster(row["id"], 1000)
    ]
    return await render_console(
        request,
        "calling/callers.html.jinja",
        status=status,
        title=translate(request, "Callers of “%(title)s”", title=row["title"]),
        breadcrumbs=_crumbs(request, org, (row["title"], link), (title, f"{link}/callers")),
        assignment=row,
        base=link,
        callers=callers,
        candidates=await roster.callable_users(org.path, row["id"]),
        values=values or {"user_id": "", "prioritized_tags": "", "excluded_tags": ""},
        errors=errors or {},
    )


@get("/assignments/{assignment_id:int}/callers", guards=MANAGE)
async def callers_page(request: Request, org: OrgScope, assignment_id: int) -> Response[str]:
    """The roster with each caller's calls and tags, and the form to add one."""
    return await _render_callers(request, org, await _assignment(org, assignment_id))


@post("/assignments/{assignment_id:int}/callers", guards=MANAGE, status_code=303)
async def caller_add(request: Request, org: OrgScope, assignment_id: int) -> Response:
    """Put a user on the roster or change their tags (the same service as ``POST
    …/assignments/{id}/callers``)."""
    row = await _assignment(org, assignment_id)
    pairs = await _form_pairs(request)
    given = dict(pairs)
    values = {name: given.get(name, "").strip() for name in _CALLER_FIELDS}
    try:
        data = msgspec.convert(
            {
                "user_id": int(values["user_id"]) if values["user_id"].isdecimal() else 0,
                "prioritized_tags": _tags(values["prioritized_tags"]),
                "excluded_tags": _tags(values["excluded_tags"]),
            },
            CallerIn,
        )
        await roster.add_caller(org.id, org.path, assignment_id, data)
    except (msgspec.ValidationError, Problem) as exc:
        errors = console_form_errors(request, exc, _CALLER_FIELDS)
        if "user_id" in errors and not values["user_id"]:
            errors["user_id"] = translate(request, "Choose a user.")
        return await _render_callers(request, org, row, values=values, errors=errors, status=422)
    return see_other(f"{_base(org)}/{assignment_id}/callers", translate(request, "Saved."))


@post(
    "/assignments/{assignment_id:int}/callers/{user_id:int}/remove", guards=MANAGE, status_code=303
)
async def caller_remove(
    request: Request, org: OrgScope, assignment_id: int, user_id: int
) -> Response:
    """Take a user off the roster (the same service as ``DELETE …/callers/{user_id}``)."""
    await _assignment(org, assignment_id)
    await roster.remove_caller(org.id, assignment_id, user_id, utcnow())
    message = translate(request, "Removed from the callers.")
    return see_other(f"{_base(org)}/{assignment_id}/callers", message)


def organizer_pages() -> list[Any]:
    """The organizer's handlers, mounted under ``/app/orgs/{org_id}/calling``."""
    return [
        assignment_list,
        assignment_new,
        assignment_create,
        instructions_preview,
        assignment_edit,
        assignment_update,
        assignment_duplicate,
        assignment_close,
        callers_page,
        caller_add,
        caller_remove,
    ]
