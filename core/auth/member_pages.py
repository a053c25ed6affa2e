"""The console's "Users and roles" page of a unit: its members with their roles, adding a
member by e-mail, changing and taking away roles, disabling and enabling users.

Thin like the JSON routes in ``core/orgs/routes.py``: each handler reads the form and calls the
same service in :mod:`core.auth.members` (which audits its own operation).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from core.auth import members
from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires
from core.orgs.services import get_unit
from core.problems import N_, Problem
from core.web.render import (
    console_form_errors,
    next_page_href,
    render_console,
    see_other,
    translate,
)

__all__ = ["ROLE_LABELS", "member_pages"]

PAGE_SIZE = 50
ROLE_LABELS = {
    "admin": N_("Admin"),
    "organizer": N_("Organizer"),
    "caller": N_("Caller"),
    "viewer": N_("Viewer"),
}
_FIELDS = ("email", "display_name", "role")
_MANAGE = requires("members.manage")


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/admin/members"


def _grantable(actor: Actor, org: OrgScope) -> list[str]:
    """The roles the user may give here (none ranked above their own), highest first."""
    own = actor.role_rank_at(org.path)
    return [role for role in actor.roles.grantable() if actor.roles.rank(role) <= own]


def _labels(request: Request, actor: Actor) -> dict[str, str]:
    """Every role's label: the built-in ones translated, a deployment's own as configured."""
    labels = {role: translate(request, label) for role, label in ROLE_LABELS.items()}
    return {**actor.roles.labels, **labels}


async def _unit(org: OrgScope) -> dict[str, Any]:
    unit = await get_unit(org.id)
    assert unit is not None
    return unit


async def _members_page(
    request: Request,
    actor: Actor,
    org: OrgScope,
    cursor: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    page = await members.list_members(org.id, PAGE_SIZE, cursor)
    next_href = next_page_href(_base(org), page.next_cursor)
    title = translate(request, "Users and roles")
    grantable = _grantable(actor, org)
    return await render_console(
        request,
        "core/admin_members.html.jinja",
        status=status,
        title=title,
        breadcrumbs=[
            (translate(request, "Administration"), f"/app/orgs/{org.id}/admin"),
            (title, _base(org)),
        ],
        members=page.items,
        next_href=next_href,
        roles=grantable,
        role_labels=_labels(request, actor),
        values={
            "email": "",
            "display_name": "",
            "role": grantable[-1] if grantable else "",  # the least
            **(values or {}),
        },
        errors=errors or {},
        actor_id=actor.user_id,
    )


@get("/admin/members", guards=[_MANAGE])
async def members_page(
    request: Request, actor: Actor, org: OrgScope, cursor: str | None = None
) -> Response[str]:
    """The unit's members with their roles, a page at a time, and the form to add one."""
    return await _members_page(request, actor, org, cursor)


@post("/admin/members", guards=[_MANAGE], status_code=303)
async def member_add(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Give a role to the account of an e-mail address (the same service as
    ``POST …/members``): a new address gets an invitation, a known one a notice, and the
    page says the same in both cases."""
    form = await request.form()
    values = {key: (form.get(key) or "").strip() for key in _FIELDS}
    try:
        email = await members.add_member(
            actor,
            await _unit(org),
            values["role"],
            email=values["email"],
            display_name=values["display_name"] or None,
        )
    except Problem as exc:
        errors = console_form_errors(request, exc, _FIELDS)
        return await _members_page(request, actor, org, None, values, errors, exc.status)
    message = translate(
        request,
        "%(email)s has the role now and gets an e-mail about it (with an invitation to choose "
        "a password, if the address has no account yet).",
        email=email,
    )
    return see_other(_base(org), message)


async def _row_action(request: Request, org: OrgScope, action: Any, done: str) -> Response:
    """Run a row's action; its refusal comes back as an error message above the list."""
    try:
        await action
    except Problem as exc:
        errors = console_form_errors(request, exc, ())
        return see_other(_base(org), errors["form"], kind="error")
    return see_other(_base(org), done)


@post("/admin/members/{user_id:int}/role", guards=[_MANAGE], status_code=303)
async def member_role(request: Request, actor: Actor, org: OrgScope, user_id: int) -> Response:
    """Give a member another role instead of the one they hold here."""
    form = await request.form()
    change = members.change_role(
        actor, await _unit(org), user_id, form.get("old_role") or "", form.get("role") or ""
    )
    return await _row_action(request, org, change, translate(request, "The role is changed."))


@post("/admin/members/{user_id:int}/remove", guards=[_MANAGE], status_code=303)
async def member_remove(request: Request, actor: Actor, org: OrgScope, user_id: int) -> Response:
    """Take a role away (the same service as ``DELETE …/members/{user_id}``)."""
    form = await request.form()
    remove = members.remove_member(actor, await _unit(org), user_id, form.get("role") or "")
    return await _row_action(request, org, remove, translate(request, "The role is taken away."))


@post("/admin/members/{user_id:int}/active", guards=[_MANAGE], status_code=303)
async def member_active(request: Request, actor: Actor, org: OrgScope, user_id: int) -> Response:
    """Disable a user (every session ends at once) or enable them again (the same service as
    ``PATCH …/users/{user_id}``)."""
    form = await request.form()
    active = form.get("active") == "yes"
    switch = members.set_user_active(actor, org.path, user_id, active)
    if active:
        done = translate(request, "The user is enabled.")
    else:
        done = translate(request, "The user is disabled.")
    return await _row_action(request, org, switch, done)


def member_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}``."""
    return [members_page, member_add, member_role, member_remove, member_active]
