"""``/api/orgs/{org_id}/people``: list and search, create, read, change; custom fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar import patch as patch_route
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.status_codes import HTTP_204_NO_CONTENT

from core import db
from core.auth.actor import Actor
from core.auth.guards import OrgScope, org_guard, requires
from core.etags import ETAG_HEADERS, PRECONDITION_RESPONSES, IfMatch, check_if_match, with_etag
from core.pagination import Page, check_limit
from core.people import gdpr, merge, services, tags
from core.people.schemas import (
    CustomFieldIn,
    CustomFieldOut,
    MemberStatus,
    PersonDetail,
    PersonIn,
    PersonOut,
    PersonPatch,
)
from core.people.tables import Person
from core.problems import N_, invalid
from core.segments.compiler import parse_segment, segment_where

__all__ = ["people_router"]


def _region(request: Request) -> str:
    return request.app.state.orga.settings.default_region


async def _detail(request: Request, row: dict[str, Any], org: OrgScope) -> PersonDetail:
    return await services.person_detail(row, org.id, request.app.state.orga.registry)


@get("/", guards=[requires("people.view")], summary="People of this unit's subtree")
async def list_people(
    request: Request,
    actor: Actor,
    org: OrgScope,
    q: str | None = None,
    member_status: MemberStatus | None = None,
    tag: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    segment: str | None = None,
) -> Page[PersonOut]:
    """Search ``q`` (e-mail, phone, postal code or name prefix) and filter; keyset pages.
    ``segment``: only the people of a segment, its definition as JSON (as ``POST
    …/segments/preview`` takes it; the console's segment builder lists through this too).
    Each page is audited: the filter and the ids shown."""
    check_limit(limit)
    where = None
    if segment is not None:
        try:
            definition = msgspec.json.decode(segment)
        except msgspec.DecodeError:
            raise invalid("segment", N_("segment is not JSON")) from None
        where = await segment_where(parse_segment(definition, "segment"), org.path)
    return await services.read_people_page(
        request,
        actor,
        org.id,
        org.path,
        q=q,
        member_status=member_status,
        tag=tag,
        limit=limit,
        cursor=cursor,
        region=_region(request),
        segment=where,
    )


@post("/", guards=[requires("people.edit")], summary="Create a person")
async def create_person(
    request: Request, actor: Actor, org: OrgScope, data: PersonIn
) -> PersonDetail:
    """Create a person (home unit in this subtree; default this unit)."""
    person_id = await services.create_person(org.id, org.path, data, _region(request))
    return await _detail(request, await services.require_person(person_id, org.path), org)


@get(
    "/{person_id:int}",
    guards=[requires("people.view")],
    summary="One person, with modules",
    response_headers=ETAG_HEADERS,
)
async def get_person(
    request: Request, actor: Actor, org: OrgScope, person_id: int
) -> Response[PersonDetail]:
    """The person with every module's summary and the ETag to change it with; the read is
    audited."""
    row = await services.read_person(person_id, org.id, org.path)
    return with_etag(await _detail(request, row, org), row)


@patch_route(
    "/{person_id:int}",
    guards=[requires("people.edit")],
    summary="Change a person",
    response_headers=ETAG_HEADERS,
    responses=PRECONDITION_RESPONSES,
)
async def patch_person(
    request: Request,
    actor: Actor,
    org: OrgScope,
    person_id: int,
    data: PersonPatch,
    if_match: IfMatch = None,
) -> Response[PersonDetail]:
    """Change fields; ``phones`` and ``tags`` replace the lists, ``consents`` append. Send the
    ETag you read as ``If-Match``: 412 if someone changed the person since."""
    async with db.transaction():
        await check_if_match(if_match, Person, await services.require_person(person_id, org.path))
        await services.update_person(person_id, org.id, org.path, data, _region(request))
    row = await services.require_person(person_id, org.path)
    return with_etag(await _detail(request, row, org), row)


@dataclass
class _ExportOperation(Operation):
    """The export's OpenAPI operation: its 200 answers JSON or, with ``?format=zip``, a ZIP."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            ok.content["application/zip"] = OpenAPIMediaType(schema=binary)


@get(
    "/{person_id:int}/export",
    guards=[requires("people.export")],
    summary="Everything stored about a person (GDPR Art. 15/20)",
    operation_class=_ExportOperation,
)
async def export_person(
    request: Request,
    actor: Actor,
    org: OrgScope,
    person_id: int,
    format: Literal["json", "zip"] = "json",
) -> Response:
    """JSON, or ``?format=zip`` for a ZIP of CSV files to hand out. Audited."""
    row = await services.require_person(person_id, org.path)
    data = await gdpr.export_person(
        row, request.app.state.orga.registry, org_id=org.id, detail={"format": format}
    )
    if format == "zip":
        return Response(
            gdpr.export_zip(data),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="person-{person_id}.zip"'},
        )
    return Response(data)


@delete(
    "/{person_id:int}",
    guards=[requires("people.erase")],
    status_code=HTTP_204_NO_CONTENT,
    summary="Erase a person (GDPR Art. 17)",
)
async def erase_person(request: Request, actor: Actor, org: OrgScope, person_id: int) -> None:
    """Delete the person with every module's data in one transaction; the audit row keeps ids."""
    row = await services.require_person(person_id, org.path)
    await gdpr.erase_person(row, request.app.state.orga.registry, org_id=org.id)


class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    """Merge ``merged_ids`` into ``kept_id``; ``overrides`` picks a field's source person."""

    kept_id: int
    merged_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=20)]
    overrides: dict[str, int] = {}


class DuplicateGroup(msgspec.Struct):
    """People sharing an e-mail, a phone, or name and postal code."""

    reason: Literal["email", "phone", "name_postal_code"]
    key: str
    person_ids: list[int]


@get("/duplicates", guards=[requires("people.edit")], summary="Likely duplicates")
async def duplicates(
    request: Request, actor: Actor, org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[DuplicateGroup]:
    """Groups by same e-mail, then same phone, then same last name and postal code (each
    page audited with the ids shown)."""
    page, _shown = await merge.read_duplicates(request, actor, org.id, org.path, limit, cursor)
    return Page([DuplicateGroup(**g) for g in page.items], page.next_cursor)


@post("/merge", guards=[requires("people.edit")], summary="Merge people into one")
async def merge_people(request: Request, org: OrgScope, data: MergeIn) -> PersonDetail:
    """One transaction: fields chosen, tags/phones/consent history united, modules moved."""
    registry = request.app.state.orga.registry
    await merge.merge_people(
        data.kept_id, data.merged_ids, data.overrides, org.path, registry, org_id=org.id
    )
    return await _detail(request, await services.require_person(data.kept_id, org.path), org)


@get("/custom-fields", guards=[requires("people.view")], summary="Custom fields visible here")
async def list_custom_fields(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[CustomFieldOut]:
    """Fields defined on this unit or above (keyset pages)."""
    return await tags.custom_fields_page(org.path, limit, cursor)


@post("/custom-fields", guards=[requires("orgs.manage")], summary="Define a custom field")
async def create_custom_field(org: OrgScope, data: CustomFieldIn) -> CustomFieldOut:
    """Define a field for people of this unit's subtree."""
    return await tags.create_custom_field(org.id, data)


def people_router() -> Router:
    """The people routes under ``/api/orgs/{org_id}/people``."""
    return Router(
        path="/api/orgs/{org_id:int}/people",
        route_handlers=[
            list_people,
            create_person,
            get_person,
            patch_person,
            export_person,
            erase_person,
            list_custom_fields,
            create_custom_field,
            duplicates,
            merge_people,
        ],
        guards=[org_guard()],
        tags=["people"],
    )
