"""Linksaktiv's newspaper console: editions (list, create), an edition's orders by state with
bulk moves, the printable pickup lists per office, the shipping list (CSV, XLSX) and the
distribution report with its coverage gaps.

Thin like the JSON routes in ``routes.py`` and ``order_routes.py``: each handler reads the
form and calls the same services (:mod:`plugins.linksaktiv.orders`,
:mod:`plugins.linksaktiv.newspapers`), which audit what they do and what they show. Mounted
under ``/app/orgs/{org_id}/linksaktiv``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream

from core import MenuItem
from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    check_limit,
    console_form_errors,
    form_int,
    get_in_org,
    next_page_href,
    page_in_org,
    render_console,
    requires,
    see_other,
    translate,
    utcnow,
)
from plugins.linksaktiv import newspapers, orders
from plugins.linksaktiv.schemas import EditionIn
from plugins.linksaktiv.tables import Edition

__all__ = ["NEWSPAPER_MENU", "STATUS_LABELS", "newspaper_pages"]

VIEW = [requires("linksaktiv.view")]
MANAGE = [requires("linksaktiv.manage")]
PAGE_SIZE = 50
#: The order states in the order an office works through them.
STATUS_LABELS = {
    "requested": N_("New"),
    "approved": N_("Approved"),
    "packed": N_("Packed"),
    "shipped": N_("Shipped"),
    "delivered": N_("Picked up / delivered"),
    "distributed": N_("Distributed"),
    "cancelled": N_("Cancelled"),
}
#: The bulk moves as the buttons name them.
BULK_LABELS = {
    "approved": N_("Approve"),
    "packed": N_("Mark packed"),
    "shipped": N_("Mark shipped"),
    "delivered": N_("Mark picked up / delivered"),
    "cancelled": N_("Cancel orders"),
}
DELIVERY_LABELS = {"pickup": N_("Pickup"), "shipping": N_("Shipping")}
NEWSPAPER_MENU = [
    MenuItem(label=N_("Newspapers"), path="newspapers", permission="linksaktiv.view", order=64),
]
_EDITION_FIELDS = ("title", "date", "copies", "bundle_size")


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/linksaktiv/newspapers"


def _crumbs(request: Request, org: OrgScope, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(translate(request, "Newspapers"), _base(org)), *more]


async def _editions_page(
    request: Request,
    actor: Actor,
    org: OrgScope,
    cursor: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    page = await page_in_org(Edition, org, check_limit(PAGE_SIZE), cursor)
    return await render_console(
        request,
        "linksaktiv/editions.html.jinja",
        status=status,
        title=translate(request, "Newspapers"),
        base=_base(org),
        editions=page.items,
        next_href=next_page_href(_base(org), page.next_cursor),
        can_manage=actor.can("linksaktiv.manage", org.path),
        form=values or {"title": "", "date": "", "copies": "", "bundle_size": "50"},
        errors=errors or {},
    )


@get("/newspapers", guards=VIEW)
async def edition_list(
    request: Request, actor: Actor, org: OrgScope, cursor: str | None = None
) -> Response:
    """The unit's editions, newest first, with the form for a new one."""
    return await _editions_page(request, actor, org, cursor)


@post("/newspapers", guards=MANAGE, status_code=200)
async def edition_create(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Create an edition (title, date, copies, bundle size), then its orders page."""
    form = await request.form()
    values = {name: (form.get(name) or "").strip() for name in _EDITION_FIELDS}
    given = {name: value for name, value in values.items() if value}
    required = translate(request, "Please fill in this field.")
    errors = {name: required for name in _EDITION_FIELDS[:3] if name not in given}
    if not errors:
        try:
            edition_id = await orders.create_edition(
                org.id, msgspec.convert(given, EditionIn, strict=False)
            )
        except (Problem, msgspec.ValidationError) as exc:
            errors = console_form_errors(request, exc, _EDITION_FIELDS)
    if errors:
        return await _editions_page(request, actor, org, None, values, errors, 422)
    return see_other(f"{_base(org)}/{edition_id}", translate(request, "Edition created."))


async def _orders_page(
    request: Request,
    actor: Actor,
    org: OrgScope,
    edition_id: int,
    shown: str,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    edition = await get_in_org(Edition, edition_id, org, "edition")
    shown = shown if shown in STATUS_LABELS else "requested"
    page = await newspapers.read_edition_orders(
        request, actor, org.id, edition_id, shown, check_limit(PAGE_SIZE), cursor
    )
    base = f"{_base(org)}/{edition_id}"
    return await render_console(
        request,
        "linksaktiv/edition_orders.html.jinja",
        status=status,
        title=edition["title"],
        breadcrumbs=_crumbs(request, org, (edition["title"], base)),
        base=base,
        edition=edition,
        shown=shown,
        counts=await newspapers.state_counts(org.id, edition_id),
        rows=page.items,
        next_href=next_page_href(base, page.next_cursor, status=shown),
        moves=[m for m in newspapers.BULK if m in orders.NEXT[shown]],
        report_href=f"{_base(org)}/report?edition_id={edition_id}",
        status_labels=STATUS_LABELS,
        bulk_labels=BULK_LABELS,
        delivery_labels=DELIVERY_LABELS,
        errors=errors or {},
    )


@get("/newspapers/{edition_id:int}", guards=MANAGE)
async def edition_orders(
    request: Request,
    actor: Actor,
    org: OrgScope,
    edition_id: int,
    status: str = "requested",
    cursor: str | None = None,
) -> Response:
    """The edition's orders in one state (tabs with counts), to tick and move on together."""
    return await _orders_page(request, actor, org, edition_id, status, cursor)


@post("/newspapers/{edition_id:int}/orders", guards=MANAGE, status_code=200)
async def edition_orders_move(
    request: Request, actor: Actor, org: OrgScope, edition_id: int
) -> Response:
    """Move the ticked orders on in one step (all or none); refused: the page again with why."""
    form = await request.form()
    shown = form.get("shown") or "requested"
    await get_in_org(Edition, edition_id, org, "edition")
    try:
        ids = [form_int({"orders": value}, "orders") for value in form.getall("orders", [])]
        moved = await newspapers.move_orders(org.id, edition_id, ids, form.get("move") or "")
    except Problem as exc:
        if exc.status == 404:
            raise
        errors = console_form_errors(request, exc, ())
        return await _orders_page(
            request, actor, org, edition_id, shown, errors=errors, status=exc.status
        )
    message = translate(request, "%(count)s orders moved.", count=moved)
    return see_other(f"{_base(org)}/{edition_id}?status={shown}", message)


def _offices(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pickup rows grouped per office, in their order (office name, then last name)."""
    offices: list[dict[str, Any]] = []
    for row in rows:
        if not offices or offices[-1]["office_org_id"] != row["office_org_id"]:
            offices.append(
                {
                    **{k: row[k] for k in ("office_org_id", "office", "address", "opening_hours")},
                    "rows": [],
                    "copies": 0,
                }
            )
        offices[-1]["rows"].append(row)
        offices[-1]["copies"] += row["copies"]
    return offices


@get("/newspapers/{edition_id:int}/pickup", guards=MANAGE)
async def pickup_list(request: Request, actor: Actor, org: OrgScope, edition_id: int) -> Response:
    """The edition's pickup lists, one per office, to print (audited with the people)."""
    edition = await get_in_org(Edition, edition_id, org, "edition")
    rows = await orders.read_pickup_list(request, actor, org.id, edition_id)
    title = translate(request, "Pickup lists: %(edition)s", edition=edition["title"])
    base = f"{_base(org)}/{edition_id}"
    return await render_console(
        request,
        "linksaktiv/pickup.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, (edition["title"], base), (title, f"{base}/pickup")),
        base=base,
        offices=_offices(rows),
        status_labels=STATUS_LABELS,
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@get("/newspapers/{edition_id:int}/pickup.csv", guards=MANAGE)
async def pickup_csv(request: Request, actor: Actor, org: OrgScope, edition_id: int) -> Response:
    """The pickup lists as one CSV (the JSON API's columns; audited)."""
    await get_in_org(Edition, edition_id, org, "edition")
    body = await orders.pickup_csv(request, actor, org.id, edition_id)
    return Response(body, media_type="text/csv", headers=_attachment(f"pickup-{edition_id}.csv"))


@get("/newspapers/{edition_id:int}/shipping.csv", guards=MANAGE)
async def shipping_csv(
    request: Request, actor: Actor, org: OrgScope, edition_id: int, status: str | None = None
) -> Stream:
    """The edition's shipping list for the print/logistics provider, streamed CSV
    (formula-safe, audited)."""
    await get_in_org(Edition, edition_id, org, "edition")
    rows = orders.export_shipping(request, actor, org.id, edition_id, status)
    name = f"shipping-{edition_id}-{utcnow():%Y%m%d-%H%M}.csv"
    return Stream(rows, media_type="text/csv", headers=_attachment(name))


@get("/newspapers/{edition_id:int}/shipping.xlsx", guards=MANAGE)
async def shipping_xlsx(
    request: Request, actor: Actor, org: OrgScope, edition_id: int, status: str | None = None
) -> Response:
    """The edition's shipping list as XLSX (formula-safe, audited)."""
    await get_in_org(Edition, edition_id, org, "edition")
    body = await orders.export_shipping_xlsx(request, actor, org.id, edition_id, status)
    name = f"shipping-{edition_id}-{utcnow():%Y%m%d-%H%M}.xlsx"
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers=_attachment(name))


@get("/newspapers/report", guards=VIEW)
async def distribution(request: Request, org: OrgScope, edition_id: int | None = None) -> Response:
    """Copies distributed per unit of the subtree and postal code, and the coverage gaps:
    the covered postal codes where nothing was distributed (a table; see the docs for why
    there is no map)."""
    title = translate(request, "Distribution report")
    if edition_id is not None:
        edition = await get_in_org(Edition, edition_id, org, "edition")
        title = translate(request, "Distribution report: %(edition)s", edition=edition["title"])
    report = await orders.distribution_report(org.path, edition_id)
    return await render_console(
        request,
        "linksaktiv/distribution.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, (title, f"{_base(org)}/report")),
        report=report,
        gaps=[{"name": u["name"], "codes": u["gaps"]} for u in report if u["gaps"]],
        total=sum(u["distributed"] for u in report),
    )


def newspaper_pages() -> list:
    """The newspaper handlers."""
    return [
        edition_list,
        edition_create,
        edition_orders,
        edition_orders_move,
        pickup_list,
        pickup_csv,
        shipping_csv,
        shipping_xlsx,
        distribution,
    ]
