"""The console's people pages: list and search, a person, create and edit, export, erasure.

Thin like the JSON routes in ``routes.py``: each handler reads the form, calls the same
service (which audits its own operation) and renders ``core/<page>.html.jinja``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post

from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires
from core.pagination import check_limit
from core.people import consent, gdpr, services
from core.people.schemas import MEMBER_STATUSES, PersonIn, PersonPatch
from core.problems import N_, Problem
from core.public import form_errors
from core.web.render import console_locale, render_console, see_other, translate

__all__ = ["people_pages"]

PAGE_SIZE = 50
STATUS_LABELS = {
    "member": N_("Member"),
    "former_member": N_("Former member"),
    "sympathizer": N_("Sympathizer"),
    "contact": N_("Contact"),
}
CONSENT_LABELS = {
    "granted": N_("granted"),
    "withdrawn": N_("withdrawn"),
    "pending": N_("pending (not confirmed)"),
}
CHANNEL_LABELS = {
    "email": N_("E-mail"),
    "phone": N_("Phone calls"),
    "sms": N_("SMS"),
    "post": N_("Post"),
}
_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phones",
    "street",
    "postal_code",
    "city",
    "member_status",
    "membership_number",
    "tags",
    "do_not_contact",
    "notes",
)


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/people"


def _crumbs(request: Request, org: OrgScope, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(translate(request, "People"), _base(org)), *more]


def _region(request: Request) -> str:
    return request.app.state.orga.settings.default_region


@get("/people", guards=[requires("people.view")])
async def people_list(
    request: Request,
    actor: Actor,
    org: OrgScope,
    q: str = "",
    member_status: str = "",
    tag: str = "",
    cursor: str | None = None,
) -> Response[str]:
    """Search and filter the people of the unit's subtree, a page at a time (audited)."""
    status = member_status if member_status in MEMBER_STATUSES else None
    page = await services.read_people_page(
        request,
        actor,
        org.id,
        org.path,
        q=q.strip() or None,
        member_status=status,
        tag=tag.strip() or None,
        limit=check_limit(PAGE_SIZE),
        cursor=cursor,
        region=_region(request),
    )
    query = {"q": q, "member_status": member_status, "tag": tag}
    next_href = None
    if page.next_cursor:
        next_href = f"{_base(org)}?{urlencode({**query, 'cursor': page.next_cursor})}"
    return await render_console(
        request,
        "core/people.html.jinja",
        title=translate(request, "People"),
        people=page.items,
        query=query,
        statuses=MEMBER_STATUSES,
        status_labels=STATUS_LABELS,
        next_href=next_href,
        can_edit=actor.can("people.edit", org.path),
    )


@get("/people/{person_id:int}", guards=[requires("people.view")])
async def person_page(
    request: Request, actor: Actor, org: OrgScope, person_id: int
) -> Response[str]:
    """Everything about a person the user may see, with each module's panel (audited read)."""
    return await _person_view(request, actor, org, person_id)


async def _person_view(
    request: Request,
    actor: Actor,
    org: OrgScope,
    person_id: int,
    errors: dict[str, str] | None = None,
    tag_value: str = "",
) -> Response[str]:
    registry = request.app.state.orga.registry
    row = await services.read_person(person_id, org.id, org.path)
    person = await services.person_detail(row, org.id, registry)
    name = f"{person.first_name} {person.last_name}".strip() or f"#{person.id}"
    return await render_console(
        request,
        "core/person.html.jinja",
        status=422 if errors else 200,
        module_titles={name: loaded.info.title for name, loaded in registry.modules.items()},
        errors=errors or {},
        tag_value=tag_value,
        title=name,
        breadcrumbs=_crumbs(request, org, (name, f"{_base(org)}/{person_id}")),
        person=person,
        history=await consent.consent_history(person_id),
        status_labels=STATUS_LABELS,
        consent_labels=CONSENT_LABELS,
        can_edit=actor.can("people.edit", org.path),
        can_export=actor.can("people.export", org.path),
        can_erase=actor.can("people.erase", org.path),
    )


def _form_values(form: Any) -> dict[str, Any]:
    """A person form's fields as the API's input takes them."""
    values: dict[str, Any] = {
        key: (form.get(key) or "").strip() or None
        for key in (
            "first_name",
            "last_name",
            "email",
            "street",
            "postal_code",
            "city",
            "membership_number",
            "notes",
        )
    }
    values["first_name"] = values["first_name"] or ""
    values["last_name"] = values["last_name"] or ""
    values["member_status"] = form.get("member_status") or "contact"
    values["phones"] = [p.strip() for p in (form.get("phones") or "").splitlines() if p.strip()]
    values["tags"] = [t.strip() for t in (form.get("tags") or "").split(",") if t.strip()]
    values["do_not_contact"] = form.get("do_not_contact") == "yes"
    return values


async def _person_form(
    request: Request,
    org: OrgScope,
    values: dict[str, Any],
    errors: dict[str, str],
    person_id: int | None = None,
    status: int = 200,
) -> Response[str]:
    if person_id is None:
        title = translate(request, "New person")
        crumbs = _crumbs(request, org, (title, f"{_base(org)}/new"))
        action = f"{_base(org)}/new"
    else:
        title = translate(request, "Edit person")
        link = f"{_base(org)}/{person_id}"
        crumbs = _crumbs(request, org, (title, f"{link}/edit"))
        action = f"{link}/edit"
    return await render_console(
        request,
        "core/person_form.html.jinja",
        status=status,
        title=title,
        breadcrumbs=crumbs,
        values=values,
        errors=errors,
        action=action,
        statuses=MEMBER_STATUSES,
        status_labels=STATUS_LABELS,
    )


def _errors(request: Request, exc: Exception) -> dict[str, str]:
    return form_errors(exc, console_locale(request), _FIELDS)  # type: ignore[arg-type]


@get("/people/new", guards=[requires("people.edit")])
async def person_new(request: Request, org: OrgScope) -> Response[str]:
    """The form for a new person."""
    empty = dict.fromkeys(_FIELDS, "") | {
        "member_status": "contact",
        "phones": [],
        "tags": [],
        "do_not_contact": False,
    }
    return await _person_form(request, org, empty, {})


@post("/people/new", guards=[requires("people.edit")], status_code=303)
async def person_create(request: Request, org: OrgScope) -> Response:
    """Create the person (the same service as ``POST …/people``)."""
    values = _form_values(await request.form())
    try:
        data = msgspec.convert(values, PersonIn)
        person_id = await services.create_person(org.id, org.path, data, _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        return await _person_form(request, org, values, _errors(request, exc), status=422)
    return see_other(f"{_base(org)}/{person_id}", translate(request, "Saved."))


@get("/people/{person_id:int}/edit", guards=[requires("people.edit")])
async def person_edit(request: Request, org: OrgScope, person_id: int) -> Response[str]:
    """The person's form, filled in."""
    row = await services.require_person(person_id, org.path)
    [person] = await services.load_people([row])
    values = msgspec.structs.asdict(person)
    return await _person_form(request, org, values, {}, person_id)


@post("/people/{person_id:int}/edit", guards=[requires("people.edit")], status_code=303)
async def person_update(request: Request, org: OrgScope, person_id: int) -> Response:
    """Save the changes (the same service as ``PATCH …/people/{id}``)."""
    await services.require_person(person_id, org.path)
    values = _form_values(await request.form())
    try:
        patch = msgspec.convert(values, PersonPatch)
        await services.update_person(person_id, org.id, org.path, patch, _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        errors = _errors(request, exc)
        return await _person_form(request, org, values, errors, person_id, status=422)
    return see_other(f"{_base(org)}/{person_id}", translate(request, "Saved."))


@post("/people/{person_id:int}/tags", guards=[requires("people.edit")], status_code=303)
async def person_tags(request: Request, actor: Actor, org: OrgScope, person_id: int) -> Response:
    """Add tags or remove one (the same service as ``PATCH …/people/{id}`` with ``tags``)."""
    form = await request.form()
    row = await services.require_person(person_id, org.path)
    [person] = await services.load_people([row])
    added = [t.strip() for t in (form.get("add") or "").split(",") if t.strip()]
    removed = (form.get("remove") or "").strip()
    tags = [t for t in person.tags if t != removed] + [t for t in added if t not in person.tags]
    try:
        patch = msgspec.convert({"tags": tags}, PersonPatch)
        await services.update_person(person_id, org.id, org.path, patch, _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        messages = form_errors(exc, console_locale(request), ("tags",))  # type: ignore[arg-type]
        errors = {"add": " ".join(messages.values())}
        return await _person_view(request, actor, org, person_id, errors, form.get("add") or "")
    return see_other(f"{_base(org)}/{person_id}", translate(request, "Saved."))


@get("/people/{person_id:int}/export", guards=[requires("people.export")])
async def person_export(request: Request, org: OrgScope, person_id: int) -> Response:
    """The GDPR copy as a ZIP of CSV files to hand out (audited)."""
    row = await services.require_person(person_id, org.path)
    data = await gdpr.export_person(
        row, request.app.state.orga.registry, org_id=org.id, detail={"format": "zip"}
    )
    return Response(
        gdpr.export_zip(data),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="person-{person_id}.zip"'},
    )


@get("/people/{person_id:int}/erase", guards=[requires("people.erase")])
async def person_erase_page(request: Request, org: OrgScope, person_id: int) -> Response[str]:
    """Ask for the typed confirmation before erasing."""
    return await _erase_form(request, org, person_id, {})


async def _erase_form(
    request: Request, org: OrgScope, person_id: int, errors: dict[str, str], status: int = 200
) -> Response[str]:
    row = await services.require_person(person_id, org.path)
    name = f"{row['first_name']} {row['last_name']}".strip() or f"#{person_id}"
    title = translate(request, "Erase %(name)s", name=name)
    return await render_console(
        request,
        "core/person_erase.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(
            request,
            org,
            (name, f"{_base(org)}/{person_id}"),
            (title, f"{_base(org)}/{person_id}/erase"),
        ),
        person=row,
        word=translate(request, "ERASE"),
        errors=errors,
    )


@post("/people/{person_id:int}/erase", guards=[requires("people.erase")], status_code=303)
async def person_erase(request: Request, org: OrgScope, person_id: int) -> Response:
    """Erase after the typed confirmation (the same service as ``DELETE …/people/{id}``)."""
    form = await request.form()
    row = await services.require_person(person_id, org.path)
    if (form.get("confirm") or "").strip() != translate(request, "ERASE"):
        message = translate(request, "Type the word exactly as shown to confirm.")
        return await _erase_form(request, org, person_id, {"confirm": message}, status=422)
    await gdpr.erase_person(row, request.app.state.orga.registry, org_id=org.id)
    return see_other(_base(org), translate(request, "The person is erased."))


def people_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}``."""
    return [
        people_list,
        person_new,
        person_create,
        person_page,
        person_edit,
        person_update,
        person_tags,
        person_export,
        person_erase_page,
        person_erase,
    ]
