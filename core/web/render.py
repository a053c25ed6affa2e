"""Rendering console pages: the layout's context (user, unit, menu, unit switcher, CSRF
token, flash messages, language) around a page template, and post-redirect-get helpers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from core import db
from core.cache import cached
from core.http import HTML
from core.i18n import LOCALES, best_locale, gettext
from core.orgs.services import module_states
from core.public import form_errors
from core.signing import BadToken, sign, unsign
from core.web.csrf import FIELD, csrf_token

__all__ = [
    "console_entries",
    "console_form_errors",
    "console_locale",
    "next_page_href",
    "render_console",
    "see_other",
    "translate",
]

_FLASH_COOKIE = "orga_flash"
_FLASH = "console.flash"
LANG_COOKIE = "orga_lang"


def console_locale(request: Request) -> str:
    """The user's chosen language (cookie), else the browser's, else the deployment's."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen  # type: ignore[return-value]
    settings = request.app.state.orga.settings
    return best_locale(request.headers.get("accept-language"), settings.locale)


def translate(request: Request, message: str, **values: Any) -> str:
    """``message`` in the page's language, with ``%(name)s`` values filled in."""
    text = gettext(message, console_locale(request))
    return text % values if values else text


def console_form_errors(
    request: Request, errors: Any, fields: tuple[str, ...] | list[str]
) -> dict[str, str]:
    """A failed form's errors as ``{field: message}`` in the page's language (see
    :func:`core.public.form_errors`): a Problem, a msgspec validation error or messages."""
    return form_errors(errors, console_locale(request), fields)


def see_other(path: str, message: str | None = None, kind: str = "success") -> Redirect:
    """Post-redirect-get: 303 to ``path``, with a flash message shown on the next page."""
    response = Redirect(path, status_code=303)
    if message:
        value = sign(_FLASH, [kind, message])
        response.set_cookie(
            Cookie(key=_FLASH_COOKIE, value=value, path="/app", httponly=True, samesite="lax")
        )
    return response


def next_page_href(path: str, cursor: str | None, **query: Any) -> str | None:
    """The link to the next page of a table: ``path`` with the filled-in ``query`` and the
    API's ``cursor``; ``None`` on the last page."""
    if not cursor:
        return None
    shown = {key: value for key, value in query.items() if value}
    return f"{path}?{urlencode({**shown, 'cursor': cursor})}"


def _flash(request: Request) -> dict[str, str] | None:
    token = request.cookies.get(_FLASH_COOKIE)
    if not token:
        return None
    try:
        kind, message = unsign(_FLASH, token, max_age=300)
    except (BadToken, ValueError, TypeError):
        return None
    return {"kind": str(kind), "message": str(message)}


async def _me(user_id: int) -> dict[str, Any]:
    """The user's address and name for the header (kept per process until the user changes)."""
    return await cached("console.me", ("orga_user",), user_id, lambda: _load_me(user_id))


async def _load_me(user_id: int) -> dict[str, Any]:
    row = await db.fetch_one("SELECT email, display_name FROM orga_user WHERE id = {}", user_id)
    return row or {"email": "", "display_name": ""}


async def _unit_rows(ids: tuple[int, ...]) -> list[dict[str, Any]]:
    """``id``, ``name`` and ``path`` of the units ``ids`` in tree order (kept per process until
    a unit changes): the layout's unit switcher and the unit it shows."""
    return await cached("console.units", ("org_unit",), ids, lambda: _load_units(ids))


async def _load_units(ids: tuple[int, ...]) -> list[dict[str, Any]]:
    marks = ", ".join(["{}"] * len(ids))
    return await db.fetch(
        f"SELECT id, name, path FROM org_unit WHERE id IN ({marks}) ORDER BY path", *ids
    )


async def _units(actor: Any) -> list[dict[str, Any]]:
    """The units the user holds a role on (the unit switcher)."""
    ids = tuple(sorted({grant.org_id for grant in actor.grants}))
    return await _unit_rows(ids) if ids else []


async def console_entries(
    request: Request, actor: Any, org: Any, items: list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    """The ``(module, MenuItem)`` entries a user sees on unit ``org``: the module is on there
    and the user holds the permission; translated, with their address, in order."""
    installed = [name for name, _item in items if name != "core"]
    states = await module_states(org.path, sorted(set(installed))) if installed else {}
    locale = console_locale(request)
    entries = []
    for module, item in items:
        if module != "core" and not states.get(module):
            continue
        needed = (item.permission,) if isinstance(item.permission, str) else item.permission
        if needed and not any(actor.can(permission, org.path) for permission in needed):
            continue
        prefix = f"/app/orgs/{org.id}" + ("" if module == "core" else f"/{module}")
        href = f"{prefix}/{item.path}".rstrip("/") if item.path else prefix
        entries.append(
            {
                "label": gettext(item.label, locale),
                "description": gettext(item.description, locale) if item.description else "",
                "href": href,
                "order": item.order,
                "current": False,
            }
        )
    entries.sort(key=lambda e: e["order"])
    return entries


async def _menu(request: Request, actor: Any, org: Any) -> list[dict[str, Any]]:
    """The unit's menu; the entry the page belongs to is marked current."""
    entries = await console_entries(request, actor, org, request.app.state.orga.console_menu)
    here = request.url.path.rstrip("/")
    matches = [e for e in entries if here == e["href"] or here.startswith(e["href"] + "/")]
    if matches:
        max(matches, key=lambda e: len(e["href"]))["current"] = True
    return entries


async def render_console(
    request: Request,
    template: str,
    *,
    status: int = 200,
    title: str = "",
    breadcrumbs: list[tuple[str, str]] | None = None,
    **context: Any,
) -> Response[str]:
    """Render ``template`` (``<module>/<page>.html.jinja``) inside the console's layout.

    Args:
        request: the page's request (its session, unit and language are used).
        template: the page template; it extends ``console/layout.html.jinja``.
        status: the HTTP status (422 for a form shown again with its errors).
        title: the page's heading and ``<title>`` (already translated).
        breadcrumbs: ``(label, href)`` pairs above the heading; the page itself last.
        context: the page's own variables.
    """
    runtime = request.app.state.orga
    locale = console_locale(request)
    actor = request.state.get("orga_console_actor")
    org = request.state.get("orga_org")
    layout: dict[str, Any] = {
        "locale": locale,
        "title": title,
        "breadcrumbs": breadcrumbs or [],
        "csrf_field": FIELD,
        "csrf": csrf_token(request),
        "flash": _flash(request),
        "me": None,
        "org": None,
        "units": [],
        "menu": [],
        "path": request.url.path,
    }
    if actor is not None:
        layout["me"] = await _me(actor.user_id)
        layout["units"] = await _units(actor)
        if org is not None:
            found = await _unit_rows((org.id,))
            layout["org"] = found[0] if found else None
            layout["menu"] = await _menu(request, actor, org)
    html = runtime.templates.render_page(template, {**layout, **context}, locale)
    response: Response[str] = Response(html, media_type=HTML, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if layout["flash"]:
        response.delete_cookie(_FLASH_COOKIE, path="/app")
    return response
