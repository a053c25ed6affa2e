"""The console's unit administration: a start page linking the parts, the unit's settings
(name, kind, office) and its move, its subunits, modules, postal-code coverage and API tokens.

Thin like the JSON routes in ``routes.py``: each handler reads the form, calls the same
service (which audits its own operation) and renders ``core/admin*.html.jinja``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response, get, post

from core import db
from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires, requires_any
from core.auth.services import create_api_token
from core.orgs import coverage, postcodes
from core.orgs.paths import is_under
from core.orgs.routes import ApiTokenIn, OrgIn, OrgPatch
from core.orgs.services import (
    change_unit_as,
    create_unit_as,
    get_unit,
    module_settings,
    switch_module,
    visible_units,
)
from core.problems import N_, Problem, invalid
from core.web.render import (
    console_entries,
    console_form_errors,
    render_console,
    see_other,
    translate,
)

__all__ = ["ADMIN_PERMISSIONS", "admin_pages"]

ADMIN_PERMISSIONS = ("orgs.manage", "members.manage", "modules.manage")
"""Holding any of these opens the unit's administration."""

_UNIT_FIELDS = ("name", "kind", "office", "opening_hours")
_NEW_UNIT_FIELDS = ("name", "kind", "parent_id")
_TOKEN_FIELDS = ("name", "permissions", "expires_in_days")
_CODES_FIELD = coverage.FIELD


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/admin"


def _crumbs(request: Request, org: OrgScope, title: str, path: str) -> list[tuple[str, str]]:
    return [(translate(request, "Administration"), _base(org)), (title, f"{_base(org)}/{path}")]


def _form_int(value: Any) -> int | str | None:
    """A number typed into a form (kept as typed when it is none, for the error)."""
    text = (value or "").strip()
    return int(text) if text.isdecimal() else (text or None)


@get("/admin", guards=[requires_any(*ADMIN_PERMISSIONS)])
async def admin_start(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """The parts of the unit's administration the user may use: core's and the modules'
    (``ConsolePages.admin``)."""
    unit = await get_unit(org.id)
    assert unit is not None
    parts = await console_entries(request, actor, org, request.app.state.orga.console_admin)
    return await render_console(
        request,
        "core/admin.html.jinja",
        title=translate(request, "Administration"),
        unit=unit,
        office=db.json_value(unit["office"]) or {},
        parts=parts,
    )


async def _parent_choices(actor: Actor, org: OrgScope, current: int | None) -> list[dict]:
    """Units the unit may move below: those the user manages, outside the unit's own subtree;
    the current parent first when the user does not manage it."""
    units = [
        u
        for u in await visible_units(actor.scopes("orgs.manage"))
        if not is_under(u["path"], org.path)
    ]
    if current is not None and all(u["id"] != current for u in units):
        parent = await get_unit(current)
        if parent is not None:
            units.insert(0, parent)
    return units


async def _unit_form(
    request: Request,
    actor: Actor,
    org: OrgScope,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    unit = await get_unit(org.id)
    assert unit is not None
    office = db.json_value(unit["office"]) or {}
    shown = {
        "name": unit["name"],
        "kind": unit["kind"],
        "office": office.get("address", ""),
        "opening_hours": office.get("opening_hours", ""),
        "parent_id": unit["parent_id"],
        **(values or {}),
    }
    title = translate(request, "Unit settings")
    return await render_console(
        request,
        "core/admin_unit.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org, title, "unit"),
        unit=unit,
        values=shown,
        errors=errors or {},
        parents=await _parent_choices(actor, org, unit["parent_id"]),
    )


@get("/admin/unit", guards=[requires("orgs.manage")])
async def unit_page(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """The unit's name, kind and office, and where it sits in the tree."""
    return await _unit_form(request, actor, org)


@post("/admin/unit", guards=[requires("orgs.manage")], status_code=303)
async def unit_save(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Rename the unit, change its kind or office (the same service as ``PATCH …``)."""
    form = await request.form()
    values = {key: (form.get(key) or "").strip() for key in _UNIT_FIELDS}
    address, hours = values["office"], values["opening_hours"]
    office = {"address": address, "opening_hours": hours} if address or hours else None
    try:
        patch = msgspec.convert(
            {"name": values["name"], "kind": values["kind"], "office": office}, OrgPatch
        )
        changes = {
            "name": patch.name,
            "kind": patch.kind,
            "office": msgspec.to_builtins(patch.office) if patch.office else None,
        }
        await change_unit_as(actor, org.id, changes)
    except (msgspec.ValidationError, Problem) as exc:
        errors = console_form_errors(request, exc, _UNIT_FIELDS)
        return await _unit_form(request, actor, org, values, errors, status=422)
    return see_other(f"{_base(org)}/unit", translate(request, "Saved."))


@post("/admin/unit/move", guards=[requires("orgs.manage")], status_code=303)
async def unit_move(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Move the unit below another one (the same service as ``PATCH …`` with ``parent_id``)."""
    form = await request.form()
    parent_id = _form_int(form.get("parent_id"))
    try:
        if not isinstance(parent_id, int):
            raise invalid("parent_id", N_("Please choose a unit."))
        await change_unit_as(actor, org.id, {}, parent_id)
    except Problem as exc:
        errors = console_form_errors(request, exc, ("parent_id",))
        if "form" in errors:  # one field: its error goes beside it
            errors = {"parent_id": errors["form"]}
        return await _unit_form(request, actor, org, {"parent_id": parent_id}, errors, 422)
    return see_other(f"{_base(org)}/unit", translate(request, "The unit has moved."))


async def _units_page(
    request: Request,
    org: OrgScope,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    tree = await visible_units([org.path])
    depth = org.path.count("/")
    for unit in tree:
        unit["depth"] = unit["path"].count("/") - depth
    names = {unit["id"]: unit["name"] for unit in tree}
    title = translate(request, "Subunits")
    return await render_console(
        request,
        "core/admin_units.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org, title, "units"),
        units=[unit for unit in tree if unit["id"] != org.id],
        parents=tree,
        names=names,
        kinds=sorted({unit["kind"] for unit in tree}),
        values={"name": "", "kind": "", "parent_id": org.id, **(values or {})},
        errors=errors or {},
    )


@get("/admin/units", guards=[requires("orgs.manage")])
async def units_page(request: Request, org: OrgScope) -> Response[str]:
    """The units below this one, and the form for a new one."""
    return await _units_page(request, org)


@post("/admin/units", guards=[requires("orgs.manage")], status_code=303)
async def units_create(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Create a subunit (the same service as ``POST /api/orgs``)."""
    form = await request.form()
    values = {
        "name": (form.get("name") or "").strip(),
        "kind": (form.get("kind") or "").strip(),
        "parent_id": _form_int(form.get("parent_id")),
    }
    try:
        data = msgspec.convert(values, OrgIn)
        unit = await create_unit_as(actor, data.name, data.kind, data.parent_id)
    except (msgspec.ValidationError, Problem) as exc:
        errors = console_form_errors(request, exc, _NEW_UNIT_FIELDS)
        return await _units_page(request, org, values, errors, status=422)
    message = translate(request, "%(name)s is created.", name=unit["name"])
    return see_other(f"{_base(org)}/units", message)


@get("/admin/modules", guards=[requires("modules.manage")])
async def modules_page(request: Request, org: OrgScope) -> Response[str]:
    """Every installed module: on or off here, and whether that is set here or above."""
    registry = request.app.state.orga.registry
    settings = await module_settings(org.path, list(registry.modules))
    modules = [
        {"name": name, "title": loaded.info.title, **settings[name]}
        for name, loaded in sorted(registry.modules.items(), key=lambda m: m[1].info.title)
    ]
    title = translate(request, "Modules")
    return await render_console(
        request,
        "core/admin_modules.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, title, "modules"),
        modules=modules,
    )


@post("/admin/modules/{name:str}", guards=[requires("modules.manage")], status_code=303)
async def modules_switch(request: Request, org: OrgScope, name: str) -> Response:
    """Switch a module on or off for the unit and its subtree (the same service as
    ``PUT …/modules/{name}``)."""
    form = await request.form()
    enabled = form.get("enabled") == "yes"
    title = await switch_module(org.id, name, enabled)
    message = (
        translate(request, "%(module)s is on here now.", module=title)
        if enabled
        else translate(request, "%(module)s is off here now.", module=title)
    )
    return see_other(f"{_base(org)}/modules", message)


def _entries(text: str) -> list[str]:
    """Codes and ranges typed one per line or separated by commas, semicolons or blanks
    (a range keeps blanks around its dash together)."""
    text = re.sub(r"\s*-\s*", "-", text)
    return [entry for entry in re.split(r"[\s,;]+", text) if entry]


async def _postcodes_page(
    request: Request,
    org: OrgScope,
    text: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    if text is None:
        text = "\n".join(await postcodes.postcodes_of(org.id))
    unit = await get_unit(org.id)
    assert unit is not None
    parent = await get_unit(unit["parent_id"]) if unit["parent_id"] is not None else None
    title = translate(request, "Postal codes")
    return await render_console(
        request,
        "core/admin_postcodes.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org, title, "postcodes"),
        text=text,
        parent=parent,
        errors=errors or {},
    )


@get("/admin/postcodes", guards=[requires("orgs.manage")])
async def postcodes_page(request: Request, org: OrgScope) -> Response[str]:
    """The postal codes and ranges the unit covers, to edit."""
    return await _postcodes_page(request, org)


@post("/admin/postcodes", guards=[requires("orgs.manage")], status_code=303)
async def postcodes_save(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Replace the unit's coverage (the same service as ``PUT …/postcodes``); a rule it breaks
    is shown beside the field."""
    form = await request.form()
    text = form.get("postal_codes") or ""
    try:
        await coverage.set_coverage_as(actor, org.id, _entries(text))
    except Problem as exc:
        errors = console_form_errors(request, exc, (_CODES_FIELD,))
        if "form" in errors:  # one field: its error goes beside it
            errors = {_CODES_FIELD: errors["form"]}
        return await _postcodes_page(request, org, text, errors, status=exc.status)
    return see_other(f"{_base(org)}/postcodes", translate(request, "Saved."))


def _held_permissions(request: Request, actor: Actor, org: OrgScope) -> list[dict[str, str]]:
    """The permissions the user holds on the unit (a token gets a subset of them)."""
    registry = request.app.state.orga.registry
    return [
        {"name": name, "description": translate(request, permission.description)}
        for name, permission in sorted(registry.permissions.items())
        if actor.can(name, org.path)
    ]


async def _tokens_page(
    request: Request,
    actor: Actor,
    org: OrgScope,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    token: Any = None,
) -> Response[str]:
    title = translate(request, "API tokens")
    return await render_console(
        request,
        "core/admin_tokens.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org, title, "tokens"),
        permissions=_held_permissions(request, actor, org),
        values={"name": "", "permissions": [], "expires_in_days": 365, **(values or {})},
        errors=errors or {},
        token=token,
    )


@get("/admin/tokens")
async def tokens_page(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """The form for a new integration token of this unit."""
    return await _tokens_page(request, actor, org)


@post("/admin/tokens", status_code=200)
async def tokens_create(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """Create the token (the same service as ``POST …/tokens``) and show its secret, once."""
    form = await request.form()
    days = _form_int(form.get("expires_in_days"))
    values = {
        "name": (form.get("name") or "").strip(),
        "permissions": [str(p) for p in form.getall("permissions", [])],
        "expires_in_days": days,
    }
    try:
        data = msgspec.convert(values, ApiTokenIn)
        token = await create_api_token(
            actor, org.id, org.path, data.name, data.permissions, data.expires_in_days
        )
    except (msgspec.ValidationError, Problem) as exc:
        errors = console_form_errors(request, exc, _TOKEN_FIELDS)
        return await _tokens_page(request, actor, org, values, errors, status=422)
    return await _tokens_page(request, actor, org, token=token)


def admin_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}``."""
    return [
        admin_start,
        unit_page,
        unit_save,
        unit_move,
        units_page,
        units_create,
        modules_page,
        modules_switch,
        postcodes_page,
        postcodes_save,
        tokens_page,
        tokens_create,
    ]
