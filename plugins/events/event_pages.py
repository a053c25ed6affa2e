"""The organizer's console pages of the events module (issue #26 items 1, 2, 6 and 7): the
unit's events as a list (upcoming, past, drafts) and a month, create and edit with a Markdown
preview, copy, a weekly series, publish, cancel with the notice; on an event's page what mail
goes out when, the public link with its QR code and the feeds; statistics as charts.

Thin like the JSON routes in ``routes.py``: each handler reads the form and calls the same
service (:mod:`plugins.events.services`, which audits), reads come from
:mod:`plugins.events.overview` and :mod:`plugins.events.notify`. Mounted under
``/app/orgs/{org_id}/events``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import MediaType, Request, Response, get, post

from core import MenuItem
from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    check_limit,
    console_form_errors,
    get_in_org,
    invalid,
    next_page_href,
    render_console,
    requires,
    see_other,
    translate,
    utcnow,
)
from plugins.events import notify, overview, services
from plugins.events.config import events_config
from plugins.events.links import event_url
from plugins.events.qr import qr_png, qr_svg
from plugins.events.schemas import EventIn, EventPatch, check_times
from plugins.events.tables import Event

__all__ = ["EVENTS_MENU", "event_pages"]

VIEW = [requires("events.view")]
MANAGE = [requires("events.manage")]
PAGE_SIZE = 50
STATE_LABELS = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "cancelled": N_("Cancelled"),
}
TAB_LABELS = {"upcoming": N_("Upcoming"), "past": N_("Past"), "drafts": N_("Drafts")}
VISIBILITY_LABELS = {
    "public": N_("Public: on the public pages and feeds"),
    "members": N_("Members"),
    "internal": N_("Internal: organizers only"),
}
TYPE_LABELS = {
    "info_stand": N_("Info stand"),
    "canvassing": N_("Canvassing"),
    "distribution": N_("Distribution"),
    "meeting": N_("Meeting"),
    "demo": N_("Demonstration"),
    "phone_bank": N_("Phone bank"),
    "other": N_("Other"),
}
_FIELDS = (
    "title",
    "type",
    "description",
    "start_at",
    "end_at",
    "location",
    "location_address",
    "capacity",
    "visibility",
    "contact_person_id",
    "reminder_hours",
)
_LIST_FIELDS = ("tab", "type", "unit", "month")

EVENTS_MENU = (MenuItem(label=N_("Events"), path="", permission="events.view", order=30),)
"""The menu entry of the events pages (the module's ``register_pages`` adds it)."""


def _base(org_id: int) -> str:
    return f"/app/orgs/{org_id}/events"


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.orga.settings.timezone)


def _type_label(request: Request, name: str) -> str:
    """An event type's label (a deployment's own types are shown as they are named)."""
    return translate(request, TYPE_LABELS[name]) if name in TYPE_LABELS else name


def _types(request: Request) -> list[tuple[str, str]]:
    return [(name, _type_label(request, name)) for name in events_config().types]


def _crumbs(request: Request, org_id: int, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(translate(request, "Events"), _base(org_id)), *more]


async def _event(org: OrgScope, event_id: int) -> dict[str, Any]:
    """The unit's event (404 for another unit's, as the JSON route)."""
    return await get_in_org(Event, event_id, org, "event")


# --- the list and the month ---------------------------------------------------------------


@get("/", guards=VIEW)
async def event_list(
    request: Request,
    actor: Actor,
    org: OrgScope,
    tab: str | None = None,
    view: str | None = None,
    month: str | None = None,
    type: str | None = None,
    unit: str | None = None,
    cursor: str | None = None,
) -> Response[str]:
    """The events of the unit and the units below it: a tab (upcoming, past, drafts) as a
    keyset-paged list, or a month (``view=month&month=2026-12``); filters by type and unit."""
    units = await overview.event_units(org.path)
    zone = _zone(request)
    now = utcnow()
    values = {"tab": tab or "upcoming", "type": type or "", "unit": unit or "", "month": ""}
    month_view = view == "month"
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    weeks: list[list[dict[str, Any]]] = []
    next_href = prev_month = next_month = None
    more = False
    first = None
    try:
        chosen = overview.read_filter(tab, type, unit, units)
        if month_view:
            first, following = overview.month_bounds(month, zone, now.astimezone(zone).date())
            values["month"] = first.strftime("%Y-%m")
            found = await overview.month_events(units, chosen, first, following, zone)
            more = len(found) > overview.MONTH_LIMIT
            weeks = overview.month_grid(first, following, found[: overview.MONTH_LIMIT], zone)
            prev_month = (first - timedelta(days=1)).strftime("%Y-%m")
            next_month = following.strftime("%Y-%m")
        else:
            page = await overview.events_page(units, chosen, now, check_limit(PAGE_SIZE), cursor)
            counts = await services.counts_for(page.items)
            rows = [{**r, "counts": counts[r["id"]]} for r in page.items]
            next_href = next_page_href(
                _base(org.id), page.next_cursor, tab=chosen.tab, type=chosen.type, unit=unit
            )
    except Problem as exc:
        errors = console_form_errors(request, exc, _LIST_FIELDS)
    return await render_console(
        request,
        "events/list.html.jinja",
        status=422 if errors else 200,
        title=translate(request, "Events"),
        base=_base(org.id),
        month_view=month_view,
        values=values,
        errors=errors,
        rows=rows,
        weeks=weeks,
        month_first=first,
        prev_month=prev_month,
        next_month=next_month,
        more=more,
        units=units if len(units) > 1 else [],
        types=_types(request),
        type_labels=dict(_types(request)),
        tab_labels=TAB_LABELS,
        state_labels=STATE_LABELS,
        next_href=next_href,
        may_manage=actor.can("events.manage", org.path),
        zone=zone,
    )


# --- create and edit ----------------------------------------------------------------------


def _local(value: datetime, zone: ZoneInfo) -> str:
    """A stored time as a ``datetime-local`` input's value."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _row_values(row: dict[str, Any]) -> dict[str, str]:
    """An event's form values."""
    zone = ZoneInfo(row["timezone"])
    location = services.location_of(row)
    return {
        "title": row["title"],
        "type": row["type"],
        "description": row["description"],
        "start_at": _local(row["start_at"], zone),
        "end_at": _local(row["end_at"], zone),
        "location": location.get("name", ""),
        "location_address": location.get("address", ""),
        "capacity": "" if row["capacity"] is None else str(row["capacity"]),
        "visibility": row["visibility"],
        "contact_person_id": ""
        if row["contact_person_id"] is None
        else str(row["contact_person_id"]),
        "reminder_hours": str(row["reminder_hours"]),
    }


def _form_values(form: dict[str, str]) -> dict[str, str]:
    """The form's values as typed (shown again as they are)."""
    values = {name: (form.get(name) or "").strip() for name in _FIELDS}
    values["description"] = form.get("description") or ""
    return values


def _number(text: str) -> int | str | None:
    return None if not text else int(text) if text.isdecimal() else text


def _parsed(
    request: Request, values: dict[str, str], zone: ZoneInfo
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as the API's input takes them, and the errors of the inputs the
    API's types cannot name (a time that is none, an end before the start)."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "title": values["title"],
        "type": values["type"],
        "description": values["description"],
        "timezone": zone.key,
        "location": {"name": values["location"], "address": values["location_address"]}
        if values["location"] or values["location_address"]
        else None,
        "capacity": _number(values["capacity"]),
        "visibility": values["visibility"] or "public",
        "contact_person_id": _number(values["contact_person_id"]),
        "reminder_hours": _number(values["reminder_hours"]) or 0,
    }
    for name in ("start_at", "end_at"):
        try:
            data[name] = datetime.fromisoformat(values[name]).replace(tzinfo=zone)
        except ValueError:
            errors[name] = translate(request, "Enter a date and a time.")
    if not errors:
        try:
            check_times(data["start_at"], data["end_at"], zone.key)
        except ValueError:
            errors["end_at"] = translate(
                request, "The end must be after the start, at most 14 days later."
            )
    return data, errors


async def _render_form(
    request: Request,
    org: OrgScope,
    values: dict[str, str],
    *,
    row: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    preview: bool = False,
) -> Response[str]:
    """The event form (new when ``row`` is ``None``), with the description's preview."""
    if row is None:
        title = translate(request, "New event")
        action = f"{_base(org.id)}/new"
        crumbs = _crumbs(request, org.id, (title, action))
    else:
        title = translate(request, "Edit “%(title)s”", title=row["title"])
        action = f"{_base(org.id)}/{row['id']}/edit"
        crumbs = _crumbs(
            request, org.id, (row["title"], f"{_base(org.id)}/{row['id']}"), (title, action)
        )
    return await render_console(
        request,
        "events/form.html.jinja",
        status=422 if errors else 200,
        title=title,
        breadcrumbs=crumbs,
        action=action,
        base=_base(org.id),
        row=row,
        values=values,
        errors=errors or {},
        types=_types(request),
        visibility_labels=VISIBILITY_LABELS,
        contacts=await overview.contact_candidates(org.path),
        preview=overview.description_html(values["description"])
        if preview and values["description"].strip()
        else None,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@get("/new", guards=MANAGE)
async def event_new(request: Request, org: OrgScope) -> Response[str]:
    """The form for a new event (saved as a draft; published from its page)."""
    values = _form_values({"visibility": "public", "reminder_hours": "24"})
    values["type"] = events_config().types[0]
    return await _render_form(request, org, values)


def _field_errors(request: Request, exc: Exception) -> dict[str, str]:
    """A failed save's errors beside the inputs (``location.name`` is the place's input)."""
    if isinstance(exc, msgspec.ValidationError) and "`$.location" in str(exc):
        return console_form_errors(request, {"location": str(exc)}, _FIELDS)
    return console_form_errors(request, exc, _FIELDS)


@post("/new", guards=MANAGE, status_code=303)
async def event_create(request: Request, org: OrgScope) -> Response:
    """Create the event as a draft (the same service as ``POST …/events``); "Preview" shows
    the form again with the description rendered."""
    form = await _form(request)
    values = _form_values(form)
    if "preview" in form:
        return await _render_form(request, org, values, preview=True)
    data, errors = _parsed(request, values, _zone(request))
    if not errors:
        try:
            body = msgspec.convert({**data, "state": "draft"}, EventIn)
            row = await services.create_event(org.id, org.path, body)
        except (msgspec.ValidationError, Problem) as exc:
            errors = _field_errors(request, exc)
        else:
            message = translate(request, "Saved as a draft. Publish it when it is ready.")
            return see_other(f"{_base(org.id)}/{row['id']}", message)
    return await _render_form(request, org, values, errors=errors)


@get("/{event_id:int}/edit", guards=MANAGE)
async def event_edit(request: Request, org: OrgScope, event_id: int) -> Response[str]:
    """The event's form, filled in."""
    row = await _event(org, event_id)
    return await _render_form(request, org, _row_values(row), row=row)


@post("/{event_id:int}/edit", guards=MANAGE, status_code=303)
async def event_update(request: Request, org: OrgScope, event_id: int) -> Response:
    """Save the changes (the same service as ``PATCH …/events/{id}``: a new time or place
    is mailed to the participants of a published event)."""
    row = await _event(org, event_id)
    form = await _form(request)
    values = _form_values(form)
    if "preview" in form:
        return await _render_form(request, org, values, row=row, preview=True)
    data, errors = _parsed(request, values, ZoneInfo(row["timezone"]))
    if not errors:
        try:
            await services.update_event(row, org.path, msgspec.convert(data, EventPatch))
        except (msgspec.ValidationError, Problem) as exc:
            errors = _field_errors(request, exc)
        else:
            return see_other(f"{_base(org.id)}/{event_id}", translate(request, "Saved."))
    return await _render_form(request, org, values, row=row, errors=errors)


@post("/preview", guards=MANAGE, status_code=200)
async def description_preview(request: Request) -> Response[bytes]:
    """The description's Markdown as HTML for ``console.js``'s live preview (the form's
    "Preview" button shows the same without JavaScript): ``{"html": …}``."""
    form = await _form(request)
    html = str(overview.description_html(form.get("description", "")))
    return Response(msgspec.json.encode({"html": html}), media_type=MediaType.JSON)


# --- one event: its page and its actions --------------------------------------------------


async def _render_event(
    request: Request,
    actor: Actor,
    org: OrgScope,
    row: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response[str]:
    """The event's page: facts, actions, what mail goes out when, public link, QR, feeds."""
    base = f"{_base(org.id)}/{row['id']}"
    public = event_url(org.id, row["id"])
    contact = None
    if row["contact_person_id"] is not None:
        contact = await services.person_names(row["contact_person_id"])
    feeds = f"{public.rsplit('/', 1)[0]}"
    return await render_console(
        request,
        "events/event.html.jinja",
        status=422 if errors else 200,
        title=row["title"],
        breadcrumbs=_crumbs(request, org.id, (row["title"], base)),
        base=base,
        event=await services.event_out(row),
        location=services.location_of(row),
        contact=contact,
        description=overview.description_html(row["description"]),
        type_label=_type_label(request, row["type"]),
        state_labels=STATE_LABELS,
        visibility_labels=VISIBILITY_LABELS,
        plan=await notify.mail_plan(row),
        public_url=public,
        qr=qr_svg(public, translate(request, "QR code of the public page")),
        feeds={
            "unit": f"{feeds}/feed.ics",
            "subtree": f"{feeds}/feed.ics?subtree=true",
            "event": f"{public}/event.ics",
            "json": f"{feeds}/events.json",
        },
        may_manage=actor.can("events.manage", org.path),
        zone=ZoneInfo(row["timezone"]),
        values=values or {"start_at": "", "until": ""},
        errors=errors or {},
    )


@get("/{event_id:int}", guards=VIEW)
async def event_page(request: Request, actor: Actor, org: OrgScope, event_id: int) -> Response[str]:
    """One event with its figures, actions, reminders, public link, QR code and feeds."""
    return await _render_event(request, actor, org, await _event(org, event_id))


@get("/{event_id:int}/qr.png", guards=VIEW)
async def event_qr(org: OrgScope, event_id: int) -> Response[bytes]:
    """The QR code of the event's public page as a PNG to print."""
    await _event(org, event_id)
    return Response(
        qr_png(event_url(org.id, event_id)),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="event-{event_id}-qr.png"'},
    )


@post("/{event_id:int}/publish", guards=MANAGE, status_code=303)
async def event_publish(request: Request, org: OrgScope, event_id: int) -> Response:
    """Publish a draft (the JSON route's ``PATCH`` with ``state: published``): it takes
    sign-ups and its reminder is scheduled."""
    row = await _event(org, event_id)
    try:
        await services.update_event(row, org.path, EventPatch(state="published"))
    except Problem as exc:
        message = console_form_errors(request, exc, ()).get("form", "")
        return see_other(f"{_base(org.id)}/{event_id}", message, kind="error")
    return see_other(f"{_base(org.id)}/{event_id}", translate(request, "Published."))


@post("/{event_id:int}/copy", guards=MANAGE, status_code=303)
async def event_copy(request: Request, actor: Actor, org: OrgScope, event_id: int) -> Response:
    """A draft copy at a new start (the same service as ``POST …/{id}/copy``)."""
    row = await _event(org, event_id)
    form = await _form(request)
    values = {"start_at": (form.get("start_at") or "").strip(), "until": ""}
    try:
        start = datetime.fromisoformat(values["start_at"]).replace(tzinfo=ZoneInfo(row["timezone"]))
    except ValueError:
        errors = {"start_at": translate(request, "Enter a date and a time.")}
        return await _render_event(request, actor, org, row, errors=errors, values=values)
    copy = await services.copy_event(row, start)
    message = translate(request, "Copied: this is the copy, a draft.")
    return see_other(f"{_base(org.id)}/{copy['id']}", message)


@post("/{event_id:int}/series", guards=MANAGE, status_code=303)
async def event_series(request: Request, actor: Actor, org: OrgScope, event_id: int) -> Response:
    """Weekly copies until a day (the same service as ``POST …/{id}/series``, audited)."""
    row = await _event(org, event_id)
    form = await _form(request)
    values = {"start_at": "", "until": (form.get("until") or "").strip()}
    try:
        try:
            until = datetime.fromisoformat(values["until"]).date()
        except ValueError:
            raise invalid("until", "a day") from None  # shown as "check this entry"
        created = await services.repeat_weekly(row, services.weeks_until(row, until))
    except Problem as exc:
        errors = console_form_errors(request, exc, ("until",))
        return await _render_event(request, actor, org, row, errors=errors, values=values)
    message = translate(request, "%(count)s weekly events created.", count=len(created))
    return see_other(f"{_base(org.id)}/{event_id}", message)


@get("/{event_id:int}/cancel", guards=MANAGE)
async def event_cancel_form(request: Request, org: OrgScope, event_id: int) -> Response[str]:
    """Asks to confirm the cancellation and says how many people get the notice."""
    row = await _event(org, event_id)
    title = translate(request, "Cancel the event")
    base = f"{_base(org.id)}/{event_id}"
    return await render_console(
        request,
        "events/cancel.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org.id, (row["title"], base), (title, base + "/cancel")),
        base=base,
        event=row,
        notified=await notify.recipient_count(event_id, notify.CANCEL_NOTICE_TO)
        if row["state"] == "published"
        else 0,
        errors={},
    )


@post("/{event_id:int}/cancel", guards=MANAGE, status_code=303)
async def event_cancel(request: Request, org: OrgScope, event_id: int) -> Response:
    """Cancel after the confirmation (the JSON route's ``PATCH`` with ``state: cancelled``):
    participants of a published event are mailed the notice."""
    row = await _event(org, event_id)
    form = await _form(request)
    base = f"{_base(org.id)}/{event_id}"
    if form.get("confirm") != "yes":
        return see_other(base + "/cancel", translate(request, "Tick the box to confirm."), "error")
    try:
        await services.update_event(row, org.path, EventPatch(state="cancelled"))
    except Problem as exc:
        message = console_form_errors(request, exc, ()).get("form", "")
        return see_other(base, message, kind="error")
    return see_other(base, translate(request, "The event is cancelled."))


# --- statistics ---------------------------------------------------------------------------


@get("/stats", guards=VIEW)
async def stats_page(request: Request, org: OrgScope) -> Response[str]:
    """Sign-ups per week (26 weeks) and the attendance rate per event type (a year), each as
    an SVG chart with its table."""
    units = await overview.event_units(org.path)
    now = utcnow()
    weeks = await overview.signups_per_week(units, now.astimezone(_zone(request)).date())
    rates = await overview.attendance_by_type(units, now)
    for rate in rates:
        rate["label"] = _type_label(request, rate["type"])
    title = translate(request, "Event statistics")
    return await render_console(
        request,
        "events/stats.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org.id, (title, f"{_base(org.id)}/stats")),
        base=_base(org.id),
        weeks=weeks,
        total=sum(w["signups"] for w in weeks),
        rates=rates,
    )


def event_pages() -> list[Any]:
    """The organizer's handlers, mounted under ``/app/orgs/{org_id}/events``."""
    return [
        event_list,
        stats_page,
        event_new,
        event_create,
        description_preview,
        event_page,
        event_qr,
        event_edit,
        event_update,
        event_publish,
        event_copy,
        event_series,
        event_cancel_form,
        event_cancel,
    ]
