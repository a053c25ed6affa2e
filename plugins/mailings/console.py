"""The mailings module's console pages: the unit's sender identity (on the administration
page). Thin like the JSON routes: the form calls the same service as ``PUT …/mailings/sender``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from core import ConsolePages, MenuItem
from core.api import (
    N_,
    OrgScope,
    Problem,
    console_form_errors,
    render_console,
    requires,
    see_other,
    translate,
)
from plugins.mailings import services
from plugins.mailings.schemas import SenderIn

__all__ = ["console_pages"]

_FIELDS = ("name", "address", "reply_to")


def _path(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/mailings/sender"


async def _sender_form(
    request: Request,
    org: OrgScope,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    current = await services.sender_for(org.path)
    inherited = current is not None and current.org_id != org.id
    shown = {"name": "", "address": "", "reply_to": ""}
    if current is not None and not inherited:
        shown |= {k: getattr(current, k) or "" for k in _FIELDS}
    title = translate(request, "Mail sender")
    return await render_console(
        request,
        "mailings/sender.html.jinja",
        status=status,
        title=title,
        breadcrumbs=[
            (translate(request, "Administration"), f"/app/orgs/{org.id}/admin"),
            (title, _path(org)),
        ],
        current=current,
        inherited=inherited,
        values=shown | (values or {}),
        errors=errors or {},
    )


@get("/sender", guards=[requires("mailings.send")])
async def sender_page(request: Request, org: OrgScope) -> Response[str]:
    """Who the unit's mailings come from: its own identity, else the one it inherits."""
    return await _sender_form(request, org)


@post("/sender", guards=[requires("mailings.send")], status_code=303)
async def sender_save(request: Request, org: OrgScope) -> Response:
    """Set the unit's own sender identity (the same service as ``PUT …/mailings/sender``)."""
    form = await request.form()
    values = {key: (form.get(key) or "").strip() for key in _FIELDS}
    try:
        data = msgspec.convert({**values, "reply_to": values["reply_to"] or None}, SenderIn)
        await services.put_sender(org.id, data)
    except (msgspec.ValidationError, Problem) as exc:
        errors = console_form_errors(request, exc, _FIELDS)
        return await _sender_form(request, org, values, errors, status=422)
    return see_other(_path(org), translate(request, "Saved."))


def console_pages() -> ConsolePages:
    """The module's pages and its entry on the unit's administration page."""
    # issue #26 (mailings26): the mailing pages live in mailing_pages.py
    from plugins.mailings.mailing_pages import MAILINGS_MENU, mailing_pages

    return ConsolePages(
        handlers=[sender_page, sender_save, *mailing_pages()],
        menu=[*MAILINGS_MENU],
        admin=[
            MenuItem(
                label=N_("Mail sender"),
                path="sender",
                permission="mailings.send",
                description=N_("Who the unit's mailings come from, and where answers go."),
                order=60,
            )
        ],
    )
