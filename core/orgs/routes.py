"""``/api/orgs``: units, their modules, members (roles and invitations), users and API
tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Router, delete, get, patch, post, put
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from core import db
from core.auth import members
from core.auth import services as auth
from core.auth.actor import Actor
from core.auth.guards import OrgScope, authenticated, org_guard, requires
from core.orgs import services
from core.pagination import Page

__all__ = ["org_handlers"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Office(msgspec.Struct):
    """A unit's office (where newspapers can be picked up)."""

    address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    opening_hours: Annotated[str, msgspec.Meta(max_length=500)] = ""


class OrgIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new unit under ``parent_id`` (needs ``orgs.manage`` there)."""

    name: Name
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    parent_id: int


class OrgPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Change name, kind or office, or move the unit under ``parent_id``."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    parent_id: int | msgspec.UnsetType = msgspec.UNSET
    office: Office | msgspec.UnsetType | None = msgspec.UNSET


class OrgOut(msgspec.Struct):
    """An org unit."""

    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    office: Office | None = None


class OrgNode(msgspec.Struct):
    """An org unit with its visible children."""

    id: int
    name: str
    kind: str
    children: list[OrgNode]


class ModuleState(msgspec.Struct):
    """An installed module and whether it is on for this unit."""

    name: str
    title: str
    enabled: bool


class ModuleSwitch(msgspec.Struct, forbid_unknown_fields=True):
    """Turn a module on or off for this unit and its subtree."""

    enabled: bool


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    """Give a role on this unit to the account of ``email`` (invited to choose a password when
    there is none; ``display_name`` names a new account) or to ``user_id``, a user holding a
    role where you manage members. Give exactly one of ``email`` and ``user_id``."""

    role: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    user_id: int | msgspec.UnsetType = msgspec.UNSET
    display_name: Name | msgspec.UnsetType = msgspec.UNSET


class MemberAdded(msgspec.Struct):
    """The role is given (the same answer whether the address had an account or not)."""

    org_id: int
    email: str
    role: str


class MemberOut(msgspec.Struct):
    """A role assignment on this unit."""

    user_id: int
    email: str
    display_name: str
    role: str
    active: bool = True


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Enable or disable a user (disabling ends all their sessions)."""

    active: bool


class ApiTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    """An integration token scoped to this unit and a subset of the caller's permissions."""

    name: Name
    permissions: Annotated[list[str], msgspec.Meta(min_length=1)]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = 365


class ApiTokenOut(msgspec.Struct):
    """The new token; the secret is shown only now."""

    id: int
    token: str
    expires_at: datetime | None


def _org_out(row: dict[str, Any]) -> OrgOut:
    office = db.json_value(row.get("office"))
    return OrgOut(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row.get("parent_id", row.get("parent")),
        path=row["path"],
        office=msgspec.convert(office, Office) if office else None,
    )


@get(
    "/api/orgs",
    guards=[authenticated],
    tags=["orgs"],
    summary="Org units I can see, as a tree (bounded, not paged)",
)
async def list_orgs(actor: Actor) -> list[OrgNode]:
    """The visible org units as a forest (one tree per visible root).

    Bounded, so not paged: one small node per unit, and the units are the party's structure
    (they grow with it, not with its members or activity); a tree also cannot be cut into
    pages a client could put together without the rest."""
    units = await services.visible_units(actor.scopes())
    nodes = {
        u["id"]: OrgNode(id=u["id"], name=u["name"], kind=u["kind"], children=[]) for u in units
    }
    roots = []
    for unit in units:
        parent = nodes.get(unit["parent_id"])
        (parent.children if parent else roots).append(nodes[unit["id"]])
    return roots


@post("/api/orgs", guards=[authenticated], tags=["orgs"], summary="Create an org unit")
async def create_org(actor: Actor, data: OrgIn) -> OrgOut:
    """Create a unit below ``parent_id`` (422 if the parent is not visible)."""
    return _org_out(await services.create_unit_as(actor, data.name, data.kind, data.parent_id))


@get("/", tags=["orgs"], summary="One org unit")
async def get_org(org: OrgScope) -> OrgOut:
    """The unit (visible to the caller by the org guard)."""
    unit = await services.get_unit(org.id)
    assert unit is not None
    return _org_out(unit)


@patch("/", guards=[requires("orgs.manage")], tags=["orgs"], summary="Change or move a unit")
async def patch_org(actor: Actor, org: OrgScope, data: OrgPatch) -> OrgOut:
    """Rename, change kind or office, or move the unit under another visible parent."""
    values: dict[str, Any] = {}
    for field in ("name", "kind"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            values[field] = value
    if data.office is not msgspec.UNSET:
        values["office"] = msgspec.to_builtins(data.office) if data.office else None
    parent_id = None if data.parent_id is msgspec.UNSET else data.parent_id
    return _org_out(await services.change_unit_as(actor, org.id, values, parent_id))


@get(
    "/modules",
    tags=["orgs"],
    summary="Installed modules and whether each is on here (bounded, not paged)",
)
async def list_modules(request: Request, org: OrgScope) -> list[ModuleState]:
    """Every installed module with ``enabled`` for this unit; bounded by the modules the
    deployment installed, so not paged."""
    registry = request.app.state.orga.registry
    states = await services.module_states(org.path, list(registry.modules))
    return [
        ModuleState(name=name, title=m.info.title, enabled=states[name])
        for name, m in registry.modules.items()
    ]


@put(
    "/modules/{name:str}",
    guards=[requires("modules.manage")],
    tags=["orgs"],
    summary="Enable or disable a module for this unit",
)
async def switch_module(org: OrgScope, name: str, data: ModuleSwitch) -> ModuleState:
    """Switch a module for this unit and its subtree (a setting further down wins)."""
    title = await services.switch_module(org.id, name, data.enabled)
    return ModuleState(name=name, title=title, enabled=data.enabled)


@get(
    "/members",
    guards=[requires("members.manage")],
    tags=["orgs"],
    summary="Role assignments on this unit",
)
async def list_members(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[MemberOut]:
    """Users holding a role directly on this unit (keyset pages)."""
    page = await members.list_members(org.id, limit, cursor)
    return Page(
        [MemberOut(**{k: v for k, v in r.items() if k != "id"}) for r in page.items],
        page.next_cursor,
    )


@post(
    "/members",
    guards=[requires("members.manage")],
    tags=["orgs"],
    status_code=HTTP_202_ACCEPTED,
    summary="Give a role on this unit (by e-mail: an invitation when there is no account)",
)
async def add_member(actor: Actor, org: OrgScope, data: MemberIn) -> MemberAdded:
    """Assign a role (applies to the subtree); nobody grants a role above their own. By e-mail
    the answer never tells whether the address had an account: the address gets either an
    invitation to choose a password or a notice of the new role."""
    unit = await services.get_unit(org.id)
    assert unit is not None
    email = await members.add_member(
        actor,
        unit,
        data.role,
        email=None if data.email is msgspec.UNSET else data.email,
        user_id=None if data.user_id is msgspec.UNSET else data.user_id,
        display_name=None if data.display_name is msgspec.UNSET else data.display_name,
    )
    return MemberAdded(org_id=org.id, email=email, role=data.role)


@delete(
    "/members/{user_id:int}",
    guards=[requires("members.manage")],
    tags=["orgs"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Take a role away",
)
async def remove_member(actor: Actor, org: OrgScope, user_id: int, role: str) -> None:
    """Remove ``?role=`` of ``user_id`` on this unit."""
    await members.remove_member(actor, {"id": org.id, "path": org.path}, user_id, role)


@patch(
    "/users/{user_id:int}",
    guards=[requires("members.manage")],
    tags=["orgs"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Enable or disable a user of this unit",
)
async def patch_user(actor: Actor, org: OrgScope, user_id: int, data: UserPatch) -> None:
    """Disable (all tokens revoked at once) or re-enable a user holding a role in this subtree."""
    await members.set_user_active(actor, org.path, user_id, data.active)


@post("/tokens", tags=["auth"], summary="Create an API token for integrations")
async def create_api_token(actor: Actor, org: OrgScope, data: ApiTokenIn) -> ApiTokenOut:
    """A token scoped to this unit with a subset of the caller's own permissions here."""
    token = await auth.create_api_token(
        actor, org.id, org.path, data.name, data.permissions, data.expires_in_days
    )
    return ApiTokenOut(id=token.id, token=token.secret, expires_at=token.expires_at)


def org_handlers() -> list:
    """Route handlers of this file (org-scoped ones inside a guarded router)."""
    from core.audit.routes import list_audit
    from core.orgs.postcode_routes import get_postcodes, put_postcodes

    scoped = Router(
        path="/api/orgs/{org_id:int}",
        route_handlers=[
            get_org,
            patch_org,
            list_modules,
            switch_module,
            list_members,
            add_member,
            remove_member,
            patch_user,
            create_api_token,
            list_audit,
            get_postcodes,
            put_postcodes,
        ],
        guards=[org_guard()],
    )
    return [list_orgs, create_org, scoped]
