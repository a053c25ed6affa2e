"""The console's audit log of a unit: its rows newest first, filtered by action, user, object,
person ("who saw this person") and dates, paged with the API's cursor.

It reads through :func:`core.audit.services.audit_page`, the service of
``GET /api/orgs/{org_id}/audit``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get

from core.audit.services import audit_page
from core.auth.guards import OrgScope, requires
from core.auth.members import member_names
from core.orgs.services import visible_units
from core.problems import Problem
from core.web.render import (
    console_form_errors,
    next_page_href,
    render_console,
    translate,
)

__all__ = ["audit_pages"]

PAGE_SIZE = 50
_FILTERS = ("action", "user_id", "object_type", "object_id", "person_id", "since", "until")
_NUMBERS = ("user_id", "object_id", "person_id")


def _parse(request: Request, query: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The filters as the service takes them, and an error per filter that cannot be read.
    Dates are days in the deployment's time zone; ``until`` includes its day."""
    zone = ZoneInfo(request.app.state.orga.settings.timezone)
    filters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in ("action", "object_type"):
        filters[key] = query[key] or None
    for key in _NUMBERS:
        if query[key] and not query[key].isdecimal():
            errors[key] = translate(request, "Please enter a number.")
        filters[key] = int(query[key]) if query[key].isdecimal() else None
    for key, extra in (("since", 0), ("until", 1)):
        filters[key] = None
        if query[key]:
            try:
                day = date.fromisoformat(query[key]) + timedelta(days=extra)
            except ValueError:
                errors[key] = translate(request, "Please enter a date.")
                continue
            filters[key] = datetime.combine(day, time(), tzinfo=zone)
    return filters, errors


def _detail_text(detail: dict[str, Any] | None, request: Request) -> str:
    """A row's detail in a line: codes as ``key=value``, the people a list showed as a count."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        if key == "people" and isinstance(value, list):
            parts.append(translate(request, "people shown: %(count)s", count=len(value)))
        elif isinstance(value, dict):
            parts += [f"{key}.{inner}={item}" for inner, item in value.items()]
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


@get("/audit", guards=[requires("audit.view")])
async def audit_log(request: Request, org: OrgScope, cursor: str | None = None) -> Response[str]:
    """The unit's audit log with its filters (the same service as ``GET …/audit``)."""
    query = {key: (request.query_params.get(key) or "").strip() for key in _FILTERS}
    filters, errors = _parse(request, query)
    rows: list[dict[str, Any]] = []
    next_href = None
    status = 200
    if errors:
        status = 422
    else:
        try:
            page = await audit_page(org.path, **filters, limit=PAGE_SIZE, cursor=cursor)
        except Problem as exc:
            errors = console_form_errors(request, exc, ())
            status = exc.status
        else:
            rows = page.items
            next_href = next_page_href("", page.next_cursor, **query)
    names = await member_names(org.path, sorted({r["user_id"] for r in rows if r["user_id"]}))
    units = {unit["id"]: unit["name"] for unit in await visible_units([org.path])}
    for row in rows:
        row["user_name"] = names.get(row["user_id"])
        row["unit_name"] = units.get(row["org_id"], "")
        row["detail_text"] = _detail_text(row["detail"], request)
    return await render_console(
        request,
        "core/audit.html.jinja",
        status=status,
        title=translate(request, "Audit log"),
        rows=rows,
        query=query,
        errors=errors,
        next_href=next_href,
    )


def audit_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}``."""
    return [audit_log]
