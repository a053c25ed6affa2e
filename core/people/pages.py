"""The console's people pages: list and search, a person, create and edit, export, erasure.

Thin like the JSON routes in ``routes.py``: each handler reads the form, calls the same
service (which audits its own operation) and renders ``core/<page>.html.jinja``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from core import db
from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires
from core.pagination import check_limit
from core.people import consent, gdpr, services, tags
from core.people.schemas import MEMBER_STATUSES, CustomFieldOut, PersonIn, PersonPatch
from core.problems import N_, Problem
from core.public import FORM_FIELD
from core.segments import services as segment_services
from core.segments.builder import GROUP_LABELS
from core.segments.pages import builder_action, count_text, read_builder, segment_pages
from core.web.render import (
    console_form_errors,
    console_locale,
    render_console,
    see_other,
    translate,
)

__all__ = ["people_pages"]

PAGE_SIZE = 50
_SEGMENT_NAME_MAX = 200  # as the JSON route's SavedIn.name
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
async def people_list(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Search the people of the unit's subtree and narrow them with the segment builder, a
    page at a time (audited); the builder's add / remove buttons redirect to the new tree."""
    pairs = list(request.query_params.multi_items())
    moved = builder_action(request, _base(org), pairs)
    if moved is not None:
        return moved
    return await render_people_list(request, actor, org, pairs)


async def render_people_list(
    request: Request,
    actor: Actor,
    org: OrgScope,
    pairs: list[tuple[str, str]],
    *,
    save_errors: dict[str, str] | None = None,
    save_name: str = "",
    status: int = 200,
) -> Response[str]:
    """The people list for the search ``q``, the builder's segment and the ``cursor`` in
    ``pairs`` (the same audited read as the JSON route); 422 when a condition is wrong (the
    list then stays empty, every input kept)."""
    given = dict(pairs)
    q = given.get("q", "")
    state = await read_builder(request, org, pairs)
    people: list[Any] = []
    next_href = None
    if not state.invalid:
        page = await services.read_people_page(
            request,
            actor,
            org.id,
            org.path,
            q=q.strip() or None,
            member_status=None,
            tag=None,
            limit=check_limit(PAGE_SIZE),
            cursor=given.get("cursor") or None,
            region=_region(request),
            segment=state.where,
        )
        people = page.items
        if page.next_cursor:
            query = state.builder.query(q=q.strip(), cursor=page.next_cursor)
            next_href = f"{_base(org)}?{query}"
    locale = console_locale(request)
    return await render_console(
        request,
        "core/people.html.jinja",
        status=422 if state.invalid else status,
        title=translate(request, "People"),
        base=_base(org),
        people=people,
        q=q,
        builder=state,
        count=None if state.count is None else count_text(state.count, locale),
        group_labels=GROUP_LABELS,
        save_errors=save_errors or {},
        save_name=save_name,
        save_params=state.builder.params() if not state.builder.empty else [],
        status_labels=STATUS_LABELS,
        next_href=next_href,
        can_edit=actor.can("people.edit", org.path),
        can_save=actor.can("segments.manage", org.path),
    )


@post("/people", guards=[requires("segments.manage")], status_code=303)
async def people_save_segment(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Keep the builder's segment under a name (the same service as ``POST …/segments``,
    which audits it); the page again with the errors beside the fields (422) when it cannot.
    Posted to the list's own address, so the page shown again keeps its relative links."""
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    name = (form.get("name") or "").strip()
    state = await read_builder(request, org, pairs, narrow=False)
    errors: dict[str, str] = {}
    if not 1 <= len(name) <= _SEGMENT_NAME_MAX:
        errors["name"] = translate(request, "Give the segment a name (at most 200 characters).")
    elif state.segment is None and not state.invalid:
        errors[FORM_FIELD] = translate(request, "Add a condition first.")
    elif not state.invalid:
        try:
            await segment_services.create_saved(org.id, org.path, name, state.segment)
        except Problem as exc:
            errors = console_form_errors(request, exc, ("name",))
        else:
            query = state.builder.query(q=(form.get("q") or "").strip())
            message = translate(request, "Saved as segment “%(name)s”.", name=name)
            return see_other(f"{_base(org)}?{query}", message)
    return await render_people_list(
        request, actor, org, pairs, save_errors=errors, save_name=name, status=422
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
        field_labels={f.key: f.label for f in await tags.custom_fields_for(row["home_org_id"])},
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


def _custom_values(
    form: Any, fields: list[CustomFieldOut], existing: dict[str, Any]
) -> dict[str, Any]:
    """The person's custom fields after the form: each field shown is set from its input
    (typed by its kind; empty removes it), the others stay as they were."""
    values = dict(existing)
    for field in fields:
        raw = (form.get(f"custom_fields.{field.key}") or "").strip()
        if raw:
            values[field.key] = _typed(field.kind, raw)
        else:
            values.pop(field.key, None)
    return values


def _typed(kind: str, raw: str) -> Any:
    """A custom field's typed value as the API takes it (kept as typed when it is none, so
    the service names the field)."""
    if kind == "boolean":
        return raw == "yes"
    if kind == "number":
        for number in (int, float):
            try:
                return number(raw.replace(",", ".") if number is float else raw)
            except ValueError:
                continue
    return raw


async def _person_form(
    request: Request,
    org: OrgScope,
    values: dict[str, Any],
    errors: dict[str, str],
    person_id: int | None = None,
    status: int = 200,
    custom_fields: list[CustomFieldOut] | None = None,
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
        custom_fields=custom_fields or [],
    )


def _errors(
    request: Request, exc: Exception, custom_fields: list[CustomFieldOut] = ()
) -> dict[str, str]:
    fields = (*_FIELDS, *(f"custom_fields.{field.key}" for field in custom_fields))
    return console_form_errors(request, exc, fields)


@get("/people/new", guards=[requires("people.edit")])
async def person_new(request: Request, org: OrgScope) -> Response[str]:
    """The form for a new person."""
    empty = dict.fromkeys(_FIELDS, "") | {
        "member_status": "contact",
        "phones": [],
        "tags": [],
        "do_not_contact": False,
        "custom_fields": {},
    }
    fields = await tags.custom_fields_for(org.id)
    return await _person_form(request, org, empty, {}, custom_fields=fields)


@post("/people/new", guards=[requires("people.edit")], status_code=303)
async def person_create(request: Request, org: OrgScope) -> Response:
    """Create the person (the same service as ``POST …/people``)."""
    form = await request.form()
    fields = await tags.custom_fields_for(org.id)
    values = _form_values(form) | {"custom_fields": _custom_values(form, fields, {})}
    try:
        data = msgspec.convert(values, PersonIn)
        person_id = await services.create_person(org.id, org.path, data, _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        errors = _errors(request, exc, fields)
        return await _person_form(request, org, values, errors, None, 422, fields)
    return see_other(f"{_base(org)}/{person_id}", translate(request, "Saved."))


@get("/people/{person_id:int}/edit", guards=[requires("people.edit")])
async def person_edit(request: Request, org: OrgScope, person_id: int) -> Response[str]:
    """The person's form, filled in."""
    row = await services.require_person(person_id, org.path)
    [person] = await services.load_people([row])
    values = msgspec.structs.asdict(person)
    fields = await tags.custom_fields_for(row["home_org_id"])
    return await _person_form(request, org, values, {}, person_id, custom_fields=fields)


@post("/people/{person_id:int}/edit", guards=[requires("people.edit")], status_code=303)
async def person_update(request: Request, org: OrgScope, person_id: int) -> Response:
    """Save the changes (the same service as ``PATCH …/people/{id}``)."""
    row = await services.require_person(person_id, org.path)
    form = await request.form()
    fields = await tags.custom_fields_for(row["home_org_id"])
    existing = db.json_value(row["custom_fields"]) or {}
    values = _form_values(form) | {"custom_fields": _custom_values(form, fields, existing)}
    try:
        patch = msgspec.convert(values, PersonPatch)
        await services.update_person(person_id, org.id, org.path, patch, _region(request))
    except (msgspec.ValidationError, Problem) as exc:
        errors = _errors(request, exc, fields)
        return await _person_form(request, org, values, errors, person_id, 422, fields)
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
        messages = console_form_errors(request, exc, ("tags",))
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
        people_save_segment,
        *segment_pages(),
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
