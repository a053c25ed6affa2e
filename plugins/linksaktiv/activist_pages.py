"""Linksaktiv's console pages for the offices: the activists of the unit and below (filters,
pages, download), the deployment's topics, calls to action (draft, reach, publish, results
per unit) and the funnel (issue #27, items 1, 2 and 7).

Thin like the JSON routes in ``routes.py``: each handler reads the form or the query and calls
the same service (:mod:`plugins.linksaktiv.activists`, :mod:`plugins.linksaktiv.calls`,
:mod:`plugins.linksaktiv.funnel`), which audits its own operation. Mounted under
``/app/orgs/{org_id}/linksaktiv``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream

from core import MenuItem
from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    console_form_errors,
    db,
    forbidden,
    get_in_org,
    invalid,
    page_in_org,
    render_console,
    requires,
    see_other,
    subtree_ids,
    to_row,
    translate,
    utcnow,
)
from plugins.linksaktiv import activists, calls
from plugins.linksaktiv.config import HELP_OPTIONS, SOURCES
from plugins.linksaktiv.funnel import attended_predicate, funnel_by_month
from plugins.linksaktiv.schemas import CallToActionIn, TopicIn, TopicPatch
from plugins.linksaktiv.tables import Call

__all__ = ["ACTIVIST_MENU", "activist_pages"]

VIEW = [requires("linksaktiv.view")]
MANAGE = [requires("linksaktiv.manage")]
PAGE_SIZE = 50
FUNNEL_MONTHS = 12
STATUS_LABELS = {
    "pending": N_("waiting for confirmation"),
    "confirmed": N_("confirmed"),
    "unsubscribed": N_("unsubscribed"),
}
SOURCE_LABELS = {
    "info_stand": N_("info stand"),
    "doors": N_("at the door"),
    "event": N_("event"),
    "social_media": N_("social media"),
    "web": N_("website"),
}
HELP_LABELS = {
    "newspapers": N_("distribute newspapers"),
    "info_stand": N_("info stands"),
    "doors": N_("door to door"),
    "phone": N_("phone calls"),
    "online": N_("online"),
}
KIND_LABELS = {
    "offline": N_("Do something on site"),
    "visit_link": N_("Visit a link"),
    "share_link": N_("Share a link"),
    "event": N_("Come to an event"),
}
STATE_LABELS = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "over": N_("Over"),
}
_FILTER_FIELDS = ("topics", "help", "source", "status", "unit_id", "active_since")
_CALL_FIELDS = ("title", "text", "kind", "link", "starts_at", "deadline", "topics", "regions")
_TOPIC_FIELDS = ("slug", "title")

ACTIVIST_MENU = (
    MenuItem(label=N_("Activists"), path="activists", permission="linksaktiv.view", order=60),
    MenuItem(label=N_("Calls to action"), path="calls", permission="linksaktiv.view", order=61),
    MenuItem(label=N_("Funnel"), path="funnel", permission="linksaktiv.view", order=62),
)
"""The activist pages' menu entries (the module's ``register_pages`` adds them)."""


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/linksaktiv"


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.orga.settings.timezone)


# -- activists ---------------------------------------------------------------------------------


def _filter_values(request: Request) -> dict[str, Any]:
    """The list's filter as typed (shown again as it is)."""
    query = request.query_params
    return {
        "topics": [t for t in query.getall("topics", []) if t],
        "help": [h for h in query.getall("help", []) if h],
        "source": (query.get("source") or "").strip(),
        "status": (query.get("status") or "").strip(),
        "unit_id": (query.get("unit_id") or "").strip(),
        "active_since": (query.get("active_since") or "").strip(),
    }


def _query(values: dict[str, Any], **more: str) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in {**values, **more}.items():
        for one in value if isinstance(value, list) else [value]:
            if one:
                pairs.append((key, one))
    return urlencode(pairs)


@get("/activists", guards=VIEW)
async def activist_list(
    request: Request, actor: Actor, org: OrgScope, cursor: str | None = None
) -> Response[str]:
    """The activists of the unit and below, filtered, a page at a time (audited read)."""
    values = _filter_values(request)
    errors: dict[str, str] = {}
    page = None
    try:
        chosen = activists.activist_filter(**values)
        page = await activists.read_activists(
            request, actor, org.id, org.path, chosen, PAGE_SIZE, cursor
        )
    except Problem as exc:
        errors = console_form_errors(request, exc, (*_FILTER_FIELDS, "cursor"))
    base = _base(org)
    units = await activists.unit_choices(org.path)
    topics = await calls.topics(active_only=False)
    return await render_console(
        request,
        "linksaktiv/activists.html.jinja",
        status=422 if errors else 200,
        title=translate(request, "Activists"),
        base=base,
        values=values,
        errors=errors,
        rows=page.items if page else [],
        topics=topics,
        topic_titles={t["slug"]: t["title"] for t in topics},
        units=units,
        unit_names={u["id"]: u["name"] for u in units},
        status_labels=STATUS_LABELS,
        source_labels=SOURCE_LABELS,
        help_labels=HELP_LABELS,
        sources=SOURCES,
        help_options=HELP_OPTIONS,
        export_query=_query(values),
        next_href=f"{base}/activists?{_query(values, cursor=page.next_cursor)}"
        if page and page.next_cursor
        else None,
    )


_FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@get("/activists/export", guards=VIEW)
async def activist_export(
    request: Request, actor: Actor, org: OrgScope, format: str = "csv"
) -> Stream:
    """The filtered activists as a file (``format`` csv|xlsx; formula-safe, audited)."""
    chosen = activists.activist_filter(**_filter_values(request))
    rows = await activists.export_activists(request, actor, org.id, org.path, chosen, format)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Stream(
        rows,
        media_type=_FILE_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="activists-{stamp}.{format}"'},
    )


# -- topics ------------------------------------------------------------------------------------


def _is_root(org: OrgScope) -> bool:
    """Topics are the deployment's: only managers of a root unit change them."""
    return org.path.count("/") == 2


async def _topics_page(
    request: Request,
    org: OrgScope,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    return await render_console(
        request,
        "linksaktiv/topics.html.jinja",
        status=status,
        title=translate(request, "Topics"),
        breadcrumbs=[
            (translate(request, "Calls to action"), f"{_base(org)}/calls"),
            (translate(request, "Topics"), f"{_base(org)}/topics"),
        ],
        base=_base(org),
        topics=await calls.topics(active_only=False),
        editable=_is_root(org),
        values=values or {"slug": "", "title": ""},
        errors=errors or {},
    )


@get("/topics", guards=MANAGE)
async def topic_list(request: Request, org: OrgScope) -> Response[str]:
    """The deployment's topics; forms to add, rename and retire them in a root unit."""
    return await _topics_page(request, org)


@post("/topics", guards=MANAGE, status_code=303)
async def topic_create(request: Request, org: OrgScope) -> Response:
    """Add a topic (the same service as ``POST …/topics``, which audits it)."""
    if not _is_root(org):
        raise forbidden("linksaktiv.manage")
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in _TOPIC_FIELDS}
    try:
        data = msgspec.convert(values, TopicIn)
        await calls.create_topic(org.id, data.slug, data.title)
    except (Problem, msgspec.ValidationError) as exc:
        errors = console_form_errors(request, exc, _TOPIC_FIELDS)
        return await _topics_page(request, org, values=values, errors=errors, status=422)
    message = translate(request, "Topic “%(title)s” added.", title=values["title"])
    return see_other(f"{_base(org)}/topics", message)


@post("/topics/{topic_id:int}", guards=MANAGE, status_code=303)
async def topic_update(request: Request, org: OrgScope, topic_id: int) -> Response:
    """Rename a topic, or retire it (off the forms) or take it back (``active``)."""
    if not _is_root(org):
        raise forbidden("linksaktiv.manage")
    form = await request.form()
    change: dict[str, Any] = {}
    if form.get("active") in ("yes", "no"):
        change["active"] = form.get("active") == "yes"
    else:
        change["title"] = (form.get("title") or "").strip()
    try:
        await calls.update_topic(org.id, topic_id, to_row(msgspec.convert(change, TopicPatch)))
    except (Problem, msgspec.ValidationError) as exc:
        message = console_form_errors(request, exc, ()).get("form", "")
        return see_other(f"{_base(org)}/topics", message, kind="error")
    return see_other(f"{_base(org)}/topics", translate(request, "Topic saved."))


# -- calls to action ---------------------------------------------------------------------------


def _state(row: dict[str, Any], now: datetime) -> str:
    if row["published_at"] is None:
        return "draft"
    if row["deadline"] is not None and row["deadline"] < now:
        return "over"
    return "published"


@get("/calls", guards=VIEW)
async def call_list(
    request: Request, actor: Actor, org: OrgScope, cursor: str | None = None
) -> Response[str]:
    """The unit's calls to action, newest first, with their state and "I did it" counts."""
    page = await page_in_org(Call, org, PAGE_SIZE, cursor)
    done = await calls.done_counts([r["id"] for r in page.items])
    now = utcnow()
    rows = [{**r, "state": _state(r, now), "done": done.get(r["id"], 0)} for r in page.items]
    base = _base(org)
    return await render_console(
        request,
        "linksaktiv/calls.html.jinja",
        title=translate(request, "Calls to action"),
        base=base,
        rows=rows,
        state_labels=STATE_LABELS,
        can_manage=actor.can("linksaktiv.manage", org.path),
        next_href=f"{base}/calls?{urlencode({'cursor': page.next_cursor})}"
        if page.next_cursor
        else None,
    )


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored time as a ``datetime-local`` input's value."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _row_values(row: dict[str, Any], zone: ZoneInfo, slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "title": row["title"],
        "text": row["text"],
        "kind": row["kind"],
        "link": row["link"] or "",
        "starts_at": _local(row["starts_at"], zone),
        "deadline": _local(row["deadline"], zone),
        "topics": [slugs[t] for t in db.json_value(row["topic_ids"]) or [] if t in slugs],
        "regions": [str(r) for r in db.json_value(row["region_ids"]) or []],
    }


def _form_values(form: Any) -> dict[str, Any]:
    return {
        "title": (form.get("title") or "").strip(),
        "text": form.get("text") or "",
        "kind": form.get("kind") or "offline",
        "link": (form.get("link") or "").strip(),
        "starts_at": (form.get("starts_at") or "").strip(),
        "deadline": (form.get("deadline") or "").strip(),
        "topics": [t for t in form.getall("topics", []) if isinstance(t, str) and t],
        "regions": [r for r in form.getall("regions", []) if isinstance(r, str) and r],
    }


def _parsed(values: dict[str, Any], zone: ZoneInfo) -> CallToActionIn:
    """The form as the API's input.

    Raises:
        Problem: 422 naming ``starts_at``, ``deadline`` or ``regions`` for what no type can
            name; msgspec.ValidationError for the rest.
    """
    times: dict[str, str | None] = {}
    for name in ("starts_at", "deadline"):
        text = values[name]
        if not text:
            times[name] = None
            continue
        try:
            times[name] = datetime.fromisoformat(text).replace(tzinfo=zone).isoformat()
        except ValueError:
            raise invalid(name, N_("Enter a date and a time.")) from None
    if not all(r.isdecimal() for r in values["regions"]):
        raise invalid("regions", N_("Choose units from the list."))
    data = {
        "title": values["title"],
        "text": values["text"],
        "kind": values["kind"],
        "link": values["link"] or None,
        "starts_at": times["starts_at"] or utcnow().isoformat(),
        "deadline": times["deadline"],
        "topics": values["topics"],
        "regions": [int(r) for r in values["regions"]],
    }
    return msgspec.convert(data, CallToActionIn)


async def _call_form(
    request: Request,
    org: OrgScope,
    values: dict[str, Any],
    *,
    row: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    """The call form (new when ``row`` is ``None``), with the reach and the results link of
    a saved call."""
    base = _base(org)
    if row is None:
        title = translate(request, "New call to action")
        action = f"{base}/calls/new"
    else:
        title = row["title"]
        action = f"{base}/calls/{row['id']}"
    return await render_console(
        request,
        "linksaktiv/call_form.html.jinja",
        status=status,
        title=title,
        breadcrumbs=[
            (translate(request, "Calls to action"), f"{base}/calls"),
            (title, action),
        ],
        base=base,
        action=action,
        row=row,
        state=_state(row, utcnow()) if row else None,
        reach=await calls.reach(row) if row else None,
        values=values,
        errors=errors or {},
        topics=await calls.topics(),
        units=await activists.unit_choices(org.path),
        kind_labels=KIND_LABELS,
        state_labels=STATE_LABELS,
    )


@get("/calls/new", guards=MANAGE)
async def call_new(request: Request, org: OrgScope) -> Response[str]:
    """An empty call form (starting now)."""
    values: dict[str, Any] = {
        "title": "",
        "text": "",
        "kind": "offline",
        "link": "",
        "starts_at": _local(utcnow(), _zone(request)),
        "deadline": "",
        "topics": [],
        "regions": [],
    }
    return await _call_form(request, org, values)


@post("/calls/new", guards=MANAGE, status_code=303)
async def call_create(request: Request, org: OrgScope) -> Response:
    """Save a new call as a draft (the same service as ``POST …/calls``, audited), then to
    its page with the reach and the publish button."""
    values = _form_values(await request.form())
    try:
        call_id = await calls.create_call(org.id, _parsed(values, _zone(request)), publish=False)
    except (Problem, msgspec.ValidationError) as exc:
        errors = console_form_errors(request, exc, _CALL_FIELDS)
        return await _call_form(request, org, values, errors=errors, status=422)
    message = translate(request, "Draft saved. Check who it reaches, then publish it.")
    return see_other(f"{_base(org)}/calls/{call_id}", message)


async def _slugs() -> dict[int, str]:
    return {t["id"]: t["slug"] for t in await calls.topics(active_only=False)}


@get("/calls/{call_id:int}", guards=MANAGE)
async def call_page(request: Request, org: OrgScope, call_id: int) -> Response[str]:
    """A call's form with who it reaches; publish a draft."""
    row = await get_in_org(Call, call_id, org, "call")
    return await _call_form(request, org, _row_values(row, _zone(request), await _slugs()), row=row)


@post("/calls/{call_id:int}", guards=MANAGE, status_code=303)
async def call_save(request: Request, org: OrgScope, call_id: int) -> Response:
    """Save the call's changes (audited); the form again with the errors beside the fields."""
    row = await get_in_org(Call, call_id, org, "call")
    values = _form_values(await request.form())
    try:
        await calls.update_call(org.id, call_id, _parsed(values, _zone(request)))
    except (Problem, msgspec.ValidationError) as exc:
        errors = console_form_errors(request, exc, _CALL_FIELDS)
        return await _call_form(request, org, values, row=row, errors=errors, status=422)
    return see_other(f"{_base(org)}/calls/{call_id}", translate(request, "Call saved."))


@post("/calls/{call_id:int}/publish", guards=MANAGE, status_code=303)
async def call_publish(request: Request, org: OrgScope, call_id: int) -> Response:
    """Publish a draft (audited): activists see it and get it in their next digest."""
    back = f"{_base(org)}/calls/{call_id}"
    try:
        await calls.publish_call(org.id, call_id)
    except Problem as exc:
        if exc.status == 404:
            raise
        return see_other(back, console_form_errors(request, exc, ())["form"], kind="error")
    return see_other(back, translate(request, "Published."))


@get("/calls/{call_id:int}/results", guards=VIEW)
async def call_results(request: Request, org: OrgScope, call_id: int) -> Response[str]:
    """ "I did it" per unit below the call's unit, as bars with their table."""
    row = await get_in_org(Call, call_id, org, "call")
    title = translate(request, "Results")
    base = _base(org)
    results = await calls.call_results(row)
    return await render_console(
        request,
        "linksaktiv/call_results.html.jinja",
        title=title,
        breadcrumbs=[
            (translate(request, "Calls to action"), f"{base}/calls"),
            (row["title"], f"{base}/calls/{call_id}"),
            (title, f"{base}/calls/{call_id}/results"),
        ],
        base=base,
        row=row,
        results=results,
        bars=[(r["label"], r["done"]) for r in results],
        total=sum(r["done"] for r in results),
    )


# -- funnel ------------------------------------------------------------------------------------

STAGES = (
    ("signed_up", N_("Contacts")),
    ("confirmed", N_("Confirmed")),
    ("acted", N_("Acted")),
    ("attended", N_("Attended an event")),
    ("members", N_("Members")),
)


@get("/funnel", guards=VIEW)
async def funnel_page(request: Request, org: OrgScope) -> Response[str]:
    """Contacts → confirmed → acted → attended an event → member per month of sign-up, for
    the unit's subtree or a unit in it and a source: bars with the numbers in tables."""
    query = request.query_params
    values = {
        "unit_id": (query.get("unit_id") or "").strip(),
        "source": (query.get("source") or "").strip(),
        "months": (query.get("months") or str(FUNNEL_MONTHS)).strip(),
    }
    errors: dict[str, str] = {}
    months: list[dict[str, Any]] = []
    units = await activists.unit_choices(org.path)
    try:
        path = org.path
        if values["unit_id"]:
            chosen = next((u for u in units if str(u["id"]) == values["unit_id"]), None)
            if chosen is None:
                raise invalid("unit_id", N_("Choose a unit from the list."))
            path = chosen["path"]
        if values["source"] and values["source"] not in SOURCES:
            raise invalid("source", N_("Choose a source from the list."))
        if not values["months"].isdecimal() or not 1 <= int(values["months"]) <= 60:
            raise invalid("months", N_("Enter a number from 1 to 60."))
        now = utcnow()
        start = datetime(now.year, now.month, 1, tzinfo=UTC)
        for _ in range(int(values["months"]) - 1):
            start = (start - timedelta(days=1)).replace(day=1)
        months = await funnel_by_month(
            await subtree_ids(path),
            start,
            await attended_predicate(path),
            values["source"] or None,
        )
    except Problem as exc:
        errors = console_form_errors(request, exc, ("unit_id", "source", "months"))
    totals = {key: sum(m[key] for m in months) for key, _label in STAGES}
    return await render_console(
        request,
        "linksaktiv/funnel.html.jinja",
        status=422 if errors else 200,
        title=translate(request, "Funnel"),
        base=_base(org),
        values=values,
        errors=errors,
        units=units,
        sources=SOURCES,
        source_labels=SOURCE_LABELS,
        stages=[(key, translate(request, label)) for key, label in STAGES],
        bars=[(translate(request, label), totals[key]) for key, label in STAGES],
        totals=totals,
        months=months,
    )


def activist_pages() -> list[Any]:
    """The handlers of the activist, topic, call-to-action and funnel pages."""
    return [
        activist_list,
        activist_export,
        topic_list,
        topic_create,
        topic_update,
        call_list,
        call_new,
        call_create,
        call_page,
        call_save,
        call_publish,
        call_results,
        funnel_page,
    ]
