"""The console's import pages: the unit's imports and an upload form, the columns to map,
the check of every row, the start, the progress while it runs, and the result.

Thin like ``import_routes.py``: each handler reads the form and calls the same step of
:mod:`core.people.imports` as the JSON route (which audits its own operation). A running
import's page refreshes itself without JavaScript (``<meta http-equiv="refresh">`` inside
``<noscript>``, which the reader can switch off); ``console.js`` follows it in place instead.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile

from core import db
from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires
from core.pagination import check_limit
from core.people import imports, uploads
from core.people.labels import FIELD_LABELS as PERSON_FIELDS
from core.people.pages import CHANNEL_LABELS
from core.people.pages import STATUS_LABELS as MEMBER_STATUS_LABELS
from core.people.schemas import MEMBER_STATUSES
from core.problems import N_, Problem
from core.web.render import (
    console_form_errors,
    next_page_href,
    render_console,
    see_other,
    translate,
)

__all__ = ["import_pages"]

PAGE_SIZE = 50
ERRORS_PAGE = 100
REFRESH_SECONDS = 2
STATUS_LABELS = {
    "uploaded": N_("Uploaded, not started"),
    "queued": N_("Waiting to start"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired (never started)"),
}
FIELD_LABELS = {
    **PERSON_FIELDS,
    "row": N_("the whole row"),
}
MATCH_LABELS = {
    "membership_number": N_("Membership number"),
    "email": N_("E-mail address"),
    "phone": N_("Phone"),
}
STRATEGY_LABELS = {
    "skip": N_("Leave them as they are"),
    "update_empty": N_("Fill in their empty fields from the file"),
    "overwrite": N_("Overwrite their fields with the file's values"),
}
# The messages core.people.imports gives a row, stored in English, shown translated (one it
# does not know is shown as stored).
ROW_MESSAGES = frozenset(
    {
        N_("not a valid e-mail address"),
        N_("unknown member status"),
        N_("unknown source"),
        N_("use a two-letter country code"),
        N_("needs a name, an e-mail or a phone number"),
    }
)
ROW_PATTERNS = (
    (
        re.compile(r"number (?P<n>\d+) is not a phone number"),
        N_("number %(n)s is not a phone number"),
    ),
    (re.compile(r"longer than (?P<n>\d+) characters"), N_("longer than %(n)s characters")),
)
FILE_PROBLEMS = {
    "import-empty": N_("The file has no header row."),
    "import-unreadable": N_(
        "The file cannot be read. Save it as CSV (UTF-8) or XLSX and upload it again."
    ),
}
_OPTION_FIELDS = (
    "match_by",
    "strategy",
    "default_member_status",
    "consent",
    "consent_channel",
    "consent_wording",
    "consent_purpose",
)


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/people/imports"


def _crumbs(request: Request, org: OrgScope, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        (translate(request, "People"), f"/app/orgs/{org.id}/people"),
        (translate(request, "Import"), _base(org)),
        *more,
    ]


def _region(request: Request) -> str:
    return request.app.state.orga.settings.default_region


def _columns(row: dict[str, Any]) -> list[str]:
    return list(db.json_value(row["columns"]))


def _field_label(request: Request, target: str) -> str:
    if target.startswith("custom:"):
        return translate(request, "Custom field %(name)s", name=target.removeprefix("custom:"))
    label = FIELD_LABELS.get(target)
    return translate(request, label) if label else target


def _row_message(request: Request, message: str) -> str:
    """A row's error message in the page's language, when it is one of the known ones."""
    if message in ROW_MESSAGES:
        return translate(request, message)
    for pattern, text in ROW_PATTERNS:
        if match := pattern.fullmatch(message):
            return translate(request, text, **match.groupdict())
    return message


def _row_errors(request: Request, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows' errors with the field's label and the message in the page's language."""
    return [
        {
            "row": error["row"],
            "field": _field_label(request, error["field"]),
            "message": _row_message(request, error["message"]),
        }
        for error in errors
    ]


@get("/people/imports", guards=[requires("people.import")])
async def imports_page(request: Request, org: OrgScope, cursor: str | None = None) -> Response[str]:
    """The unit's imports (newest first) and the form to upload a file."""
    return await _list_page(request, org, cursor, {})


async def _list_page(
    request: Request,
    org: OrgScope,
    cursor: str | None,
    errors: dict[str, str],
    status: int = 200,
) -> Response[str]:
    page = await imports.list_imports(org.id, check_limit(PAGE_SIZE), cursor)
    next_href = next_page_href(_base(org), page.next_cursor)
    title = translate(request, "Import")
    return await render_console(
        request,
        "core/imports.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org),
        base=_base(org),
        items=page.items,
        next_href=next_href,
        status_labels=STATUS_LABELS,
        errors=errors,
    )


@post(
    "/people/imports",
    guards=[requires("people.import")],
    request_max_body_size=uploads.MAX_UPLOAD,
    status_code=303,
)
async def import_upload(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Store the file as a new import (the same service as ``POST …/people/imports``) and
    go on to its columns."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        message = translate(request, "Choose a CSV or XLSX file.")
        return await _list_page(request, org, None, {"file": message}, status=422)
    settings = request.app.state.orga.settings
    try:
        import_id, _ = await imports.upload(
            upload, org.id, actor.user_id, settings, _region(request)
        )
    except Problem as exc:
        known = FILE_PROBLEMS.get(exc.slug)
        errors = (
            {"file": translate(request, known)}
            if known
            else console_form_errors(request, exc, ("file",))
        )
        return await _list_page(request, org, None, errors, status=422)
    return see_other(
        f"{_base(org)}/{import_id}", translate(request, "The file is uploaded. Check its columns.")
    )


@get("/people/imports/{import_id:int}", guards=[requires("people.import")])
async def import_page(
    request: Request,
    org: OrgScope,
    import_id: int,
    cursor: str | None = None,
    refresh: str = "",
) -> Response[str]:
    """An uploaded import's columns to map; later its progress, and then its result."""
    row = await imports.load_import(import_id, org.id)
    if row["status"] == "uploaded":
        return await _mapping_page(request, org, row, _suggested(row), {})
    return await _state_page(request, org, row, cursor, refresh != "off")


def _suggested(row: dict[str, Any]) -> dict[str, Any]:
    """The mapping form's first values: the suggested mapping and the API's defaults."""
    columns = _columns(row)
    mapping = imports.suggest_mapping(columns)
    defaults = imports.ImportOptions(mapping={})
    return {
        "map": [mapping.get(column, "") for column in columns],
        "match_by": list(defaults.match_by),
        "strategy": defaults.strategy,
        "default_member_status": defaults.default_member_status,
        "consent_channel": "",
        "consent_wording": "",
        "consent_purpose": "",
    }


def _choices(form: Any, columns: list[str]) -> dict[str, Any]:
    """The mapping form's values as sent (shown again as they were)."""
    return {
        "map": [form.get(f"map-{index}") or "" for index in range(len(columns))],
        "match_by": list(form.getall("match_by", [])),
        "strategy": form.get("strategy") or "",
        "default_member_status": form.get("default_member_status") or "",
        "consent_channel": form.get("consent_channel") or "",
        "consent_wording": (form.get("consent_wording") or "").strip(),
        "consent_purpose": (form.get("consent_purpose") or "").strip(),
    }


def _options(choices: dict[str, Any], columns: list[str]) -> imports.ImportOptions:
    """The import's options as the API takes them (``msgspec.ValidationError`` if wrong)."""
    data: dict[str, Any] = {
        "mapping": {columns[i]: target for i, target in enumerate(choices["map"]) if target},
        "match_by": choices["match_by"],
        "strategy": choices["strategy"],
        "default_member_status": choices["default_member_status"],
    }
    if choices["consent_channel"]:
        data["consent"] = {
            "channel": choices["consent_channel"],
            "wording": choices["consent_wording"],
            "purpose": choices["consent_purpose"] or "general",
        }
    return msgspec.convert(data, imports.ImportOptions)


async def _mapping_page(
    request: Request,
    org: OrgScope,
    row: dict[str, Any],
    choices: dict[str, Any],
    errors: dict[str, str],
    result: imports.CheckOut | None = None,
    status: int = 200,
) -> Response[str]:
    columns = _columns(row)
    examples = await imports.samples(row)
    targets = [*imports.FIELDS, *sorted({t for t in choices["map"] if t.startswith("custom:")})]
    title = translate(request, "Import %(file)s", file=row["filename"])
    return await render_console(
        request,
        "core/import_mapping.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org, (title, f"{_base(org)}/{row['id']}")),
        base=_base(org),
        row=row,
        columns=[
            {"index": i, "name": name, "examples": [r[i] for r in examples if i < len(r)]}
            for i, name in enumerate(columns)
        ],
        targets=[(target, _field_label(request, target)) for target in targets],
        choices=choices,
        errors=errors,
        result=result,
        result_errors=_row_errors(request, result.errors) if result else [],
        listed_all=result is None or len(result.errors) < imports.CHECK_ERRORS,
        check_errors=imports.CHECK_ERRORS,
        match_labels=MATCH_LABELS,
        strategy_labels=STRATEGY_LABELS,
        channel_labels=CHANNEL_LABELS,
        statuses=MEMBER_STATUSES,
        member_status_labels=MEMBER_STATUS_LABELS,
    )


def _not_open(request: Request, org: OrgScope, import_id: int) -> Response:
    """Back to an import that was started or ended meanwhile (another tab, its expiry)."""
    message = translate(request, "This import has already started or ended.")
    return see_other(f"{_base(org)}/{import_id}", message, kind="error")


async def _row_and_choices(
    request: Request, org: OrgScope, import_id: int
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    row = await imports.load_import(import_id, org.id)
    columns = _columns(row)
    return row, _choices(await request.form(), columns), columns


@post("/people/imports/{import_id:int}/check", guards=[requires("people.import")], status_code=200)
async def import_check(request: Request, org: OrgScope, import_id: int) -> Response:
    """Check every row with the chosen mapping (the same service as ``POST …/check``) and
    show the result above the form."""
    row, choices, columns = await _row_and_choices(request, org, import_id)
    if row["status"] != "uploaded":  # confirmed meanwhile (another tab): its page instead
        return _not_open(request, org, import_id)
    try:
        result = await imports.check(row, _options(choices, columns), _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        if isinstance(exc, Problem) and exc.status == 409:
            return _not_open(request, org, import_id)
        errors = console_form_errors(request, exc, _OPTION_FIELDS)
        return await _mapping_page(request, org, row, choices, errors, status=422)
    return await _mapping_page(request, org, row, choices, {}, result)


@post(
    "/people/imports/{import_id:int}/confirm", guards=[requires("people.import")], status_code=303
)
async def import_confirm(request: Request, org: OrgScope, import_id: int) -> Response:
    """Start the import with the chosen mapping (the same service as ``POST …/confirm``)."""
    row, choices, columns = await _row_and_choices(request, org, import_id)
    try:
        await imports.confirm(row, _options(choices, columns), org.id, org.path, _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        if isinstance(exc, Problem) and exc.status == 409:
            return _not_open(request, org, import_id)
        errors = console_form_errors(request, exc, _OPTION_FIELDS)
        return await _mapping_page(request, org, row, choices, errors, status=422)
    return see_other(f"{_base(org)}/{import_id}", translate(request, "The import has started."))


@post("/people/imports/{import_id:int}/cancel", guards=[requires("people.import")], status_code=303)
async def import_cancel(request: Request, org: OrgScope, import_id: int) -> Response:
    """Cancel an import that has not started (the same service as ``POST …/cancel``)."""
    try:
        await imports.cancel(import_id, org.id, request.app.state.orga.settings)
    except Problem as exc:
        if exc.status != 409:
            raise
        return _not_open(request, org, import_id)
    message = translate(request, "The import is cancelled; its file is deleted.")
    return see_other(_base(org), message)


async def _state_page(
    request: Request, org: OrgScope, row: dict[str, Any], cursor: str | None, refresh: bool
) -> Response[str]:
    """A started import: its progress while it runs, its result once it has ended."""
    running = row["status"] in ("queued", "running")
    done, total = imports.progress_of(row)
    error_rows: list[dict[str, Any]] = []
    next_href = None
    if row["status"] == "done" and row["error_count"]:
        page = await imports.error_rows(row["id"], ERRORS_PAGE, cursor)
        error_rows = _row_errors(request, page.items)
        next_href = next_page_href(f"{_base(org)}/{row['id']}", page.next_cursor)
    title = translate(request, "Import %(file)s", file=row["filename"])
    return await render_console(
        request,
        "core/import.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, (title, f"{_base(org)}/{row['id']}")),
        base=_base(org),
        row=row,
        running=running,
        refresh=REFRESH_SECONDS if running and refresh else None,
        poll=REFRESH_SECONDS,
        done=done,
        total=total,
        error_rows=error_rows,
        next_href=next_href,
        status_labels=STATUS_LABELS,
        people_href=f"/app/orgs/{org.id}/people",
    )


def import_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}``."""
    return [
        imports_page,
        import_upload,
        import_page,
        import_check,
        import_confirm,
        import_cancel,
    ]
