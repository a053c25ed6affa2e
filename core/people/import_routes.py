"""``/api/orgs/{org_id}/people/imports``: upload, check, confirm, cancel, follow an import.

An import is ``uploaded`` → ``queued`` (confirmed) → ``running`` → ``done`` or ``failed``; an
unconfirmed one can be ``cancelled`` or ``expired``. Its file is deleted when it ends
(:mod:`core.people.uploads`), so an ended import is not confirmed again: upload the file anew.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from core import db
from core.auth.actor import Actor
from core.auth.guards import OrgScope, org_guard, requires
from core.pagination import Page, check_limit
from core.people import imports, uploads
from core.problems import FieldError, Problem
from core.settings import Settings

__all__ = ["import_router"]


class RowPreview(msgspec.Struct):
    """A row as it would be imported, or its errors."""

    row: int
    values: dict[str, Any]
    phones: list[str]
    tags: list[str]
    errors: list[dict[str, str]]


class ImportOut(msgspec.Struct):
    """An import: its columns, the suggested mapping, state and results.

    ``total_rows`` counts the file's rows (blank ones aside) once the import has started;
    ``done_rows`` how many of them it has read so far: its progress while ``running``."""

    id: int
    filename: str
    format: str
    columns: list[str]
    suggested_mapping: dict[str, str]
    status: str
    error: str | None
    total_rows: int
    done_rows: int
    created: int
    updated: int
    skipped: int
    errors: int
    preview: list[RowPreview] = []


class ErrorOut(msgspec.Struct):
    """A row that was not imported."""

    row: int
    field: str
    message: str


def _preview(result: imports.RowResult) -> RowPreview:
    return RowPreview(
        row=result.number,
        values=result.values,
        phones=result.phones,
        tags=result.tags,
        errors=[{"field": f, "message": m} for f, m in result.errors],
    )


def _done_rows(row: dict[str, Any], settings: Settings) -> int:
    """Rows read: from the running import's progress file, all once it is done."""
    if row["status"] == "running":
        return min(uploads.read_progress(settings, row["id"]), row["total_rows"])
    return row["total_rows"] if row["status"] == "done" else 0


def _out(
    row: dict[str, Any], settings: Settings, preview: list[RowPreview] | None = None
) -> ImportOut:
    columns = db.json_value(row["columns"])
    return ImportOut(
        id=row["id"],
        filename=row["filename"],
        format=row["format"],
        columns=columns,
        suggested_mapping=imports.suggest_mapping(columns),
        status=row["status"],
        error=row["error"],
        total_rows=row["total_rows"],
        done_rows=_done_rows(row, settings),
        created=row["created_count"],
        updated=row["updated_count"],
        skipped=row["skipped_count"],
        errors=row["error_count"],
        preview=preview or [],
    )


def _region(request: Request) -> str:
    return request.app.state.orga.settings.default_region


@post(
    "/",
    guards=[requires("people.import")],
    request_max_body_size=uploads.MAX_UPLOAD,
    summary="Upload a CSV or XLSX file of people",
)
async def upload(
    request: Request,
    actor: Actor,
    org: OrgScope,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> ImportOut:
    """Multipart field ``file``; answers the columns, a suggested mapping and a preview of the
    first rows checked with it (or with the JSON field ``mapping`` when given). A rejected
    file is deleted at once; an accepted one when its import ends, or unconfirmed after
    ``ORGA_IMPORT_UPLOAD_HOURS``."""
    upload_file = data.get("file")
    if not isinstance(upload_file, UploadFile):
        raise Problem(
            422,
            "validation-error",
            "Send the file in the multipart field 'file'.",
            errors=[FieldError("file", "missing")],
        )
    mapping = None
    if data.get("mapping"):
        try:
            mapping = msgspec.json.decode(str(data["mapping"]), type=dict[str, str])
        except msgspec.DecodeError as exc:
            raise Problem(
                422,
                "validation-error",
                "mapping must be a JSON object",
                errors=[FieldError("mapping", str(exc))],
            ) from exc
    settings = request.app.state.orga.settings
    import_id, preview = await imports.upload(
        upload_file, org.id, actor.user_id, settings, _region(request), mapping
    )
    row = await imports.load_import(import_id, org.id)
    return _out(row, settings, [_preview(r) for r in preview])


@get("/", guards=[requires("people.import")], summary="The unit's imports")
async def list_imports(
    request: Request, org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[ImportOut]:
    """Newest first (keyset pages)."""
    check_limit(limit)
    page = await imports.list_imports(org.id, limit, cursor)
    settings = request.app.state.orga.settings
    return Page([_out(row, settings) for row in page.items], page.next_cursor)


@get("/{import_id:int}", guards=[requires("people.import")], summary="State of an import")
async def get_import(request: Request, org: OrgScope, import_id: int) -> ImportOut:
    """Status, counts and, while it runs, its progress (``done_rows`` of ``total_rows``)."""
    return _out(await imports.load_import(import_id, org.id), request.app.state.orga.settings)


@post(
    "/{import_id:int}/check",
    guards=[requires("people.import")],
    status_code=HTTP_200_OK,
    summary="Check every row with a mapping (writes nothing)",
)
async def check(
    request: Request, org: OrgScope, import_id: int, data: imports.ImportOptions
) -> imports.CheckOut:
    """Count valid and invalid rows and list the first 1,000 errors."""
    row = await imports.load_import(import_id, org.id)
    return await imports.check(row, data, _region(request))


@post(
    "/{import_id:int}/confirm",
    guards=[requires("people.import")],
    status_code=HTTP_202_ACCEPTED,
    summary="Import the valid rows (all or nothing)",
)
async def confirm(
    request: Request, org: OrgScope, import_id: int, data: imports.ImportOptions
) -> ImportOut:
    """Queue the import; it runs as one transaction in the job worker. Audited."""
    row = await imports.load_import(import_id, org.id)
    await imports.confirm(row, data, org.id, org.path, _region(request))
    return _out(await imports.load_import(import_id, org.id), request.app.state.orga.settings)


@post(
    "/{import_id:int}/cancel",
    guards=[requires("people.import")],
    status_code=HTTP_200_OK,
    summary="Cancel an import that has not started (its file is deleted)",
)
async def cancel(request: Request, org: OrgScope, import_id: int) -> ImportOut:
    """An uploaded or queued import is cancelled and its file deleted; a running or ended
    one answers 409. Audited."""
    await imports.cancel(import_id, org.id, request.app.state.orga.settings)
    return _out(await imports.load_import(import_id, org.id), request.app.state.orga.settings)


@get(
    "/{import_id:int}/errors",
    guards=[requires("people.import")],
    summary="Rows that were not imported",
)
async def import_errors(
    org: OrgScope, import_id: int, limit: int = 100, cursor: str | None = None
) -> Page[ErrorOut]:
    """Row number, field and message, in file order (keyset pages)."""
    check_limit(limit)
    await imports.load_import(import_id, org.id)
    page = await imports.error_rows(import_id, limit, cursor)
    return Page(
        [ErrorOut(row=r["row"], field=r["field"], message=r["message"]) for r in page.items],
        page.next_cursor,
    )


def import_router() -> Router:
    """The import routes."""
    return Router(
        path="/api/orgs/{org_id:int}/people/imports",
        route_handlers=[upload, list_imports, get_import, check, confirm, cancel, import_errors],
        guards=[org_guard()],
        tags=["people"],
    )
