"""The console pages of the mailings module (issue #26, items 8 to 11): the unit's mailings by
state, the composer (subject, Markdown body, merge fields, a live preview for a chosen
recipient, the audience with the segment builder and who will not receive it and why, a test
to oneself), the confirmation before sending, pause / resume / cancel, the statistics over
time and the unit's suppression list.

Thin like the JSON routes in ``routes.py``: each handler reads the form and calls the same
service (:mod:`plugins.mailings.services`, :mod:`plugins.mailings.sending`,
:mod:`plugins.mailings.console_services`), which audits its own operation. Mounted under
``/app/orgs/{org_id}/mailings``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter

from core import MenuItem
from core.api import (
    GROUP_LABELS,
    N_,
    Actor,
    BuilderState,
    OrgScope,
    Problem,
    apply_builder_action,
    check_limit,
    console_form_errors,
    console_locale,
    count_text,
    db,
    get_in_org,
    next_page_href,
    read_builder,
    render_console,
    requires,
    see_other,
    segment_params,
    translate,
)
from plugins.mailings import console_services, sending, services
from plugins.mailings.audience import audience_breakdown
from plugins.mailings.render import web_url
from plugins.mailings.schemas import MailingIn, MailingPatch
from plugins.mailings.tables import Mailing

__all__ = ["MAILINGS_MENU", "STATE_LABELS", "mailing_pages"]

EDIT = [requires("mailings.edit")]
SEND = [requires("mailings.send")]
PAGE_SIZE = 50
AUDIENCE = "audience"
STATE_LABELS = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "sending": N_("Sending"),
    "paused": N_("Paused"),
    "sent": N_("Sent"),
    "cancelled": N_("Cancelled"),
}
REASON_LABELS = {
    "do_not_contact": N_("Do not contact"),
    "no_email": N_("No e-mail address"),
    "bouncing": N_("Suppressed (the address bounced)"),
    "unsubscribed": N_("Unsubscribed"),
    "no_consent": N_("No consent to e-mail"),
}
MERGE_FIELDS = (
    ("{{ person.salutation }}", N_("Greeting by gender where known: Liebe Erika, Lieber Jürgen")),
    ("{{ person.first_name }}", N_("First name")),
    ("{{ person.last_name }}", N_("Last name")),
    ("{{ person.email }}", N_("E-mail address")),
    ("{{ person.postal_code }}", N_("Postal code")),
    ("{{ person.city }}", N_("City")),
    ("{{ org.name }}", N_("Name of the unit")),
    ("{{ cta_url }}", N_("Address of the call to action")),
)
_FIELDS = ("subject", "body", "cta_url", "cta_label", "scheduled_at", AUDIENCE)

MAILINGS_MENU = (MenuItem(label=N_("Mailings"), path="", permission="mailings.edit", order=50),)
"""The menu entry of the mailing pages (the module's ``register_pages`` adds it)."""


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/mailings"


def _crumbs(request: Request, org: OrgScope, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(translate(request, "Mailings"), _base(org)), *more]


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.orga.settings.timezone)


def _can_send(request: Request, org: OrgScope) -> bool:
    """Whether the user may send, pause and cancel here (the buttons are shown)."""
    actor = request.state.get("orga_console_actor")
    return actor is not None and actor.can("mailings.send", org.path)


async def _mailing(org: OrgScope, mailing_id: int) -> dict[str, Any]:
    """The unit's mailing (404 for another unit's, as the JSON route)."""
    return await get_in_org(Mailing, mailing_id, org, "mailing")


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


@get("/", guards=EDIT)
async def mailing_list(
    request: Request,
    org: OrgScope,
    state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
    q: str | None = None,
    cursor: str | None = None,
) -> Response[str]:
    """The unit's mailings, newest first, by state and subject, with their progress."""
    values = {"state": (state_filter or "").strip(), "q": (q or "").strip()}
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    next_href = None
    try:
        page = await console_services.list_mailings(
            org.id, values["state"], values["q"], check_limit(PAGE_SIZE), cursor
        )
    except Problem as exc:
        errors = console_form_errors(request, exc, ("state", "q", "cursor"))
    else:
        stats = await services.stats_of([r["id"] for r in page.items])
        rows = [{**r, "stats": stats[r["id"]]} for r in page.items]
        next_href = next_page_href(_base(org), page.next_cursor, **values)
    return await render_console(
        request,
        "mailings/mailings.html.jinja",
        status=422 if errors else 200,
        title=translate(request, "Mailings"),
        base=_base(org),
        rows=rows,
        values=values,
        errors=errors,
        state_labels=STATE_LABELS,
        next_href=next_href,
    )


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored time as a ``datetime-local`` input's value."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _row_values(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "subject": row["subject"],
        "body": row["body"],
        "cta_url": row["cta_url"] or "",
        "cta_label": row["cta_label"] or "",
        "scheduled_at": _local(row["scheduled_at"], zone),
    }


def _form_values(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    given = dict(pairs)
    return {
        "subject": given.get("subject", "").strip(),
        "body": given.get("body", ""),
        "cta_url": given.get("cta_url", "").strip(),
        "cta_label": given.get("cta_label", "").strip(),
        "scheduled_at": given.get("scheduled_at", "").strip(),
    }


def _parsed(request: Request, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The form's values as the API's input takes them (empty optional fields are none)."""
    data: dict[str, Any] = {
        "subject": values["subject"],
        "body": values["body"],
        "cta_url": values["cta_url"] or None,
        "cta_label": values["cta_label"] or None,
        "scheduled_at": None,
    }
    if values["scheduled_at"]:
        try:
            when = datetime.fromisoformat(values["scheduled_at"]).replace(tzinfo=_zone(request))
            data["scheduled_at"] = when.isoformat()
        except ValueError:
            errors["scheduled_at"] = translate(request, "Enter a date and a time.")
    return data


def _errors(request: Request, exc: Exception) -> dict[str, str]:
    """A failed save's errors beside the inputs; a template's error keeps its line, a missing
    sender identity is said for the whole form."""
    if isinstance(exc, Problem):
        found = {e.field: e.message for e in exc.errors or []}
        shown: dict[str, str] = {}
        for field, message in found.items():
            if field in ("subject", "body") and message:
                shown[field] = translate(
                    request, "The template has an error: %(error)s", error=message
                )
            elif field == "sender_address":
                shown["form"] = translate(
                    request, "The unit has no sender yet: an administrator sets it first."
                )
            elif field.split(".")[0] == AUDIENCE:
                shown[AUDIENCE] = translate(request, "Check the conditions of the audience.")
        if shown:
            return shown
    return console_form_errors(request, exc, _FIELDS)


def _breakdown_rows(request: Request, counts: dict[str, int] | None) -> list[tuple[str, int]]:
    if counts is None:
        return []
    return [(translate(request, label), counts[key]) for key, label in REASON_LABELS.items()]


async def _merge_fields(
    request: Request, org: OrgScope, person: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """The variables a body can use: the person's, the unit's and what modules add for the
    person previewed (e.g. ``upcoming_events``)."""
    fields = [(code, translate(request, text)) for code, text in MERGE_FIELDS]
    if person is not None:
        extra = await services.module_context(person["id"], org.id)
        note = translate(request, "From a module, for this person")
        fields += [("{{ " + key + " }}", note) for key in sorted(extra)]
    return fields


async def _render_form(
    request: Request,
    org: OrgScope,
    values: dict[str, Any],
    pairs: list[tuple[str, str]],
    *,
    row: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    fixed: bool = False,
    person: dict[str, Any] | None = None,
    preview: dict[str, Any] | None = None,
    preview_error: str | None = None,
) -> Response[str]:
    """The composer (new when ``row`` is ``None``): the form, the merge fields, the preview
    (for ``person``, else a sample person), the audience with its breakdown and the test."""
    audience = await read_builder(request, org, pairs, narrow=False, root=AUDIENCE)
    base = _base(org)
    if row is None:
        title = translate(request, "New mailing")
        action = f"{base}/new"
    else:
        title = row["subject"]
        action = f"{base}/{row['id']}"
    mailing = _draft(org, row, values)
    if preview is None and preview_error is None:
        try:
            preview = await services.preview_parts(mailing, person)
        except Problem as exc:
            preview_error = "; ".join(_errors(request, exc).values())
    counts = None
    if audience.segment is not None:
        counts = await audience_breakdown(audience.segment, org.id, org.path)
    choices = await console_services.recipient_choices(row, org.path) if row else []
    invalid = bool(errors) or audience.invalid
    locale = console_locale(request)
    return await render_console(
        request,
        "mailings/compose.html.jinja",
        status=422 if invalid and status == 200 else status,
        title=title,
        breadcrumbs=_crumbs(request, org, (title, action)),
        action=action,
        base=base,
        row=row,
        state_labels=STATE_LABELS,
        values=values,
        errors=errors or {},
        audience=audience,
        audience_count=_count(audience, locale),
        fixed=fixed,
        group_labels=GROUP_LABELS,
        counts=counts,
        breakdown=_breakdown_rows(request, counts),
        merge_fields=await _merge_fields(request, org, person),
        person=person,
        choices=choices,
        preview=preview,
        preview_error=preview_error,
        sender=await services.sender_for(org.path) if row is None else None,
    )


def _count(state: BuilderState, locale: str) -> str:
    return "" if state.count is None else count_text(state.count, locale)


def _draft(org: OrgScope, row: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """The mailing as the form shows it (text not saved yet), to render the preview."""
    base = dict(row) if row else {"id": 0, "org_id": org.id, "sender_address": "preview@invalid"}
    return {
        **base,
        "subject": values["subject"] or "…",
        "body": values["body"],
        "cta_url": values["cta_url"] or None,
        "cta_label": values["cta_label"] or None,
    }


async def _audience_data(
    request: Request, org: OrgScope, pairs: list[tuple[str, str]], errors: dict[str, str]
) -> tuple[Any, bool]:
    """The audience of the form (JSON data, ``{}`` without conditions) and whether the
    builder is wrong."""
    state = await read_builder(request, org, pairs, narrow=False, root=AUDIENCE)
    if state.segment is None:
        return {}, state.invalid
    return msgspec.to_builtins(state.segment), state.invalid


@get("/new", guards=EDIT)
async def mailing_new(request: Request, org: OrgScope) -> Response[str]:
    """The composer for a new draft."""
    values = _form_values([])
    return await _render_form(request, org, values, [(AUDIENCE, "all")])


@post("/new", guards=EDIT, status_code=303)
async def mailing_create(request: Request, org: OrgScope) -> Response:
    """Create the draft (the same service as ``POST …/mailings``); the builder's buttons and
    "Preview" show the form again."""
    pairs = await _form_pairs(request)
    moved = apply_builder_action(request, pairs, AUDIENCE)
    if moved is not None:
        return await _render_form(request, org, _form_values(moved[0]), moved[0])
    values = _form_values(pairs)
    if "preview" in dict(pairs):
        return await _render_form(request, org, values, pairs)
    errors: dict[str, str] = {}
    data = _parsed(request, values, errors)
    audience, wrong = await _audience_data(request, org, pairs, errors)
    if not errors and not wrong:
        try:
            body = msgspec.convert({**data, AUDIENCE: audience}, MailingIn)
            row = await services.create_mailing(org.id, org.path, body)
        except (msgspec.ValidationError, Problem) as exc:
            errors = _errors(request, exc)
        else:
            return see_other(f"{_base(org)}/{row['id']}", translate(request, "Saved."))
    return await _render_form(request, org, values, pairs, errors=errors, status=422)


async def _stored_pairs(
    request: Request, org: OrgScope, row: dict[str, Any]
) -> tuple[list[tuple[str, str]], bool]:
    """The builder's fields of a stored audience, and whether the builder cannot show it."""
    data = db.json_value(row[AUDIENCE])
    if not data:
        return [(AUDIENCE, "all")], False
    shown = await segment_params(request, org, data, AUDIENCE)
    return (shown, False) if shown is not None else ([(AUDIENCE, "all")], True)


async def _view(
    request: Request, org: OrgScope, row: dict[str, Any], person: dict[str, Any] | None = None
) -> Response[str]:
    """A draft's composer, or the page of a mailing on its way or sent."""
    if row["state"] == "draft":
        pairs, fixed = await _stored_pairs(request, org, row)
        values = _row_values(row, _zone(request))
        return await _render_form(request, org, values, pairs, row=row, fixed=fixed, person=person)
    stats = (await services.stats_of([row["id"]]))[row["id"]]
    base = f"{_base(org)}/{row['id']}"
    public_url = request.app.state.orga.settings.public_url
    return await render_console(
        request,
        "mailings/mailing.html.jinja",
        title=row["subject"],
        breadcrumbs=_crumbs(request, org, (row["subject"], base)),
        row=row,
        base=base,
        stats=stats,
        state_labels=STATE_LABELS,
        web_url=web_url(public_url, row["id"]) if row["started_at"] else None,
        can_send=_can_send(request, org),
    )


@get("/{mailing_id:int}", guards=EDIT)
async def mailing_page(request: Request, org: OrgScope, mailing_id: int) -> Response[str]:
    """A draft's composer (preview for a sample person), or the mailing's progress."""
    return await _view(request, org, await _mailing(org, mailing_id))


@get("/{mailing_id:int}/preview", guards=EDIT)
async def preview_page(
    request: Request, org: OrgScope, mailing_id: int, person: str | None = None
) -> Response[str]:
    """The composer with the preview for ``person`` (a person of the unit's subtree; empty: a
    sample person), rendered by the server (audited as the JSON preview)."""
    row = await _mailing(org, mailing_id)
    chosen = None
    if person and person.strip():
        if not person.strip().isdecimal():
            return await _view(request, org, row)
        chosen = await services.person_in_unit(int(person), org.path, "person")
    return await _view(request, org, row, chosen)


async def _fragment(request: Request, org: OrgScope, row: dict[str, Any] | None) -> Response:
    """The preview of the form's text (not saved) for the chosen person, as an HTML fragment
    for ``console.js``; 422 with the error in the fragment."""
    pairs = await _form_pairs(request)
    given = dict(pairs)
    values = _form_values(pairs)
    chosen = None
    preview = None
    error = None
    status = 200
    try:
        if given.get("person", "").strip().isdecimal():
            chosen = await services.person_in_unit(int(given["person"]), org.path, "person")
        preview = await services.preview_parts(_draft(org, row, values), chosen)
    except Problem as exc:
        error = "; ".join(_errors(request, exc).values())
        status = 422
    return await render_console(
        request,
        "mailings/preview.html.jinja",
        status=status,
        preview=preview,
        preview_error=error,
        person=chosen,
    )


@post("/{mailing_id:int}/preview", guards=EDIT, status_code=200)
async def preview_fragment(request: Request, org: OrgScope, mailing_id: int) -> Response:
    """The live preview of a draft's unsaved text (``console.js``)."""
    return await _fragment(request, org, await _mailing(org, mailing_id))


@post("/new/preview", guards=EDIT, status_code=200)
async def new_preview_fragment(request: Request, org: OrgScope) -> Response:
    """The live preview of a new mailing's text (``console.js``)."""
    return await _fragment(request, org, None)


@post("/{mailing_id:int}", guards=EDIT, status_code=303)
async def mailing_update(request: Request, org: OrgScope, mailing_id: int) -> Response:
    """Save the draft (the same service as ``PATCH …/mailings/{id}``)."""
    row = await _mailing(org, mailing_id)
    _stored, fixed = await _stored_pairs(request, org, row)
    pairs = await _form_pairs(request)
    moved = apply_builder_action(request, pairs, AUDIENCE)
    if moved is not None:
        values = _form_values(moved[0])
        return await _render_form(request, org, values, moved[0], row=row, fixed=fixed)
    values = _form_values(pairs)
    given = dict(pairs)
    if "preview" in given:
        person = None
        if given.get("person", "").isdecimal():
            person = await services.person_in_unit(int(given["person"]), org.path, "person")
        return await _render_form(request, org, values, pairs, row=row, fixed=fixed, person=person)
    errors: dict[str, str] = {}
    data = _parsed(request, values, errors)
    audience, wrong = await _audience_data(request, org, pairs, errors)
    if not fixed:
        data[AUDIENCE] = audience
    if not errors and not wrong:
        try:
            await services.patch_mailing(row, msgspec.convert(data, MailingPatch))
        except (msgspec.ValidationError, Problem) as exc:
            errors = _errors(request, exc)
        else:
            return see_other(f"{_base(org)}/{mailing_id}", translate(request, "Saved."))
    return await _render_form(
        request, org, values, pairs, row=row, errors=errors, status=422, fixed=fixed
    )


@post("/{mailing_id:int}/test", guards=EDIT, status_code=303)
async def send_test(request: Request, actor: Actor, org: OrgScope, mailing_id: int) -> Response:
    """Send the saved draft to the logged-in user's own address (the JSON route's service),
    with the chosen person's data or a sample person's."""
    row = await _mailing(org, mailing_id)
    form = await request.form()
    chosen = (form.get("person") or "").strip()
    person = None
    if chosen.isdecimal():
        person = await services.person_in_unit(int(chosen), org.path, "person")
    email = await console_services.user_email(actor.user_id)
    try:
        await services.send_test(row, email, person)
    except Problem as exc:
        message = "; ".join(_errors(request, exc).values())
        return see_other(f"{_base(org)}/{mailing_id}", message, kind="error")
    message = translate(request, "A test mail is on its way to %(email)s.", email=email)
    return see_other(f"{_base(org)}/{mailing_id}", message)


@post("/{mailing_id:int}/delete", guards=EDIT, status_code=303)
async def mailing_delete(request: Request, org: OrgScope, mailing_id: int) -> Response:
    """Delete a draft (the same service as ``DELETE …/mailings/{id}``)."""
    await services.delete_mailing(await _mailing(org, mailing_id))
    return see_other(_base(org), translate(request, "The draft is deleted."))


async def _confirm_page(
    request: Request,
    org: OrgScope,
    row: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    base = f"{_base(org)}/{row['id']}"
    title = translate(request, "Send the mailing")
    counts = None
    try:
        counts = await services.audience_of(row, org.path)
    except Problem as exc:
        errors = {**(errors or {}), **_errors(request, exc)}
        status = 422
    return await render_console(
        request,
        "mailings/confirm.html.jinja",
        status=status,
        title=title,
        breadcrumbs=_crumbs(request, org, (row["subject"], base), (title, f"{base}/send")),
        row=row,
        base=base,
        counts=counts,
        breakdown=_breakdown_rows(request, counts),
        errors=errors or {},
    )


@get("/{mailing_id:int}/send", guards=SEND)
async def confirm_page(request: Request, org: OrgScope, mailing_id: int) -> Response[str]:
    """How many people the mailing reaches now and when it goes out; the button to send."""
    return await _confirm_page(request, org, await _mailing(org, mailing_id))


@post("/{mailing_id:int}/send", guards=SEND, status_code=303)
async def send(request: Request, org: OrgScope, mailing_id: int) -> Response:
    """Send now or schedule (the same service as ``POST …/send``) with the number confirmed
    on the page: when it changed meanwhile, the page shows the new one (422)."""
    row = await _mailing(org, mailing_id)
    form = await request.form()
    count = (form.get("confirm_count") or "").strip()
    try:
        await sending.start(
            row, org.path, form.get("confirm") == "yes", int(count) if count.isdecimal() else None
        )
    except Problem as exc:
        fields = {e.field for e in exc.errors or []}
        if "confirm_count" in fields:
            errors = {"form": translate(request, "The number changed: check it and confirm.")}
        elif "confirm" in fields:
            errors = {"confirm": translate(request, "Tick the box to confirm.")}
        else:
            errors = _errors(request, exc)
        return await _confirm_page(request, org, row, errors, status=422)
    state = (await _mailing(org, mailing_id))["state"]
    scheduled = N_("The mailing is scheduled.")
    message = scheduled if state == "scheduled" else N_("The mailing is on its way.")
    return see_other(f"{_base(org)}/{mailing_id}", translate(request, message))


def _state_page(path: str, run: Any, done: str) -> Any:
    @post(
        f"/{{mailing_id:int}}/{path}",
        guards=SEND,
        status_code=303,
        name=f"mailings-page-{path}",
    )
    async def handler(request: Request, org: OrgScope, mailing_id: int) -> Response:
        row = await _mailing(org, mailing_id)
        try:
            await run(row)
        except Problem as exc:
            message = "; ".join(console_form_errors(request, exc, ()).values())
            return see_other(f"{_base(org)}/{mailing_id}", message, kind="error")
        return see_other(f"{_base(org)}/{mailing_id}", translate(request, done))

    handler.__doc__ = f"{path.capitalize()} the send (the same service as ``POST …/{path}``)."
    return handler


pause = _state_page("pause", sending.pause, N_("Paused: no more mails go out until you resume."))
resume = _state_page("resume", sending.resume, N_("Resumed: the mails go out again."))
cancel = _state_page("cancel", sending.cancel, N_("Cancelled: no more mails go out."))


@get("/{mailing_id:int}/stats", guards=EDIT)
async def stats_page(request: Request, org: OrgScope, mailing_id: int) -> Response[str]:
    """Sent, delivered, bounced, unsubscribed (opened and clicked when tracking is on) and
    the same over time as a chart with its table; the unit's sender and suppression list."""
    row = await _mailing(org, mailing_id)
    stats = (await services.stats_of([mailing_id]))[mailing_id]
    title = translate(request, "Statistics")
    base = f"{_base(org)}/{mailing_id}"
    figures = [
        ("sent", N_("Sent"), stats.sent),
        ("delivered", N_("Delivered"), stats.delivered),
        ("bounced", N_("Bounced"), stats.bounced),
        ("unsubscribed", N_("Unsubscribed"), stats.unsubscribed),
    ]
    if stats.opened is not None:
        figures.append(("opened", N_("Opened"), stats.opened))
        figures.append(("clicked", N_("Clicked"), stats.clicked or 0))
    return await render_console(
        request,
        "mailings/stats.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, (row["subject"], base), (title, f"{base}/stats")),
        row=row,
        base=base,
        stats=stats,
        figures=[(key, translate(request, label), n) for key, label, n in figures],
        points=await console_services.timeline(mailing_id),
        tracking=stats.opened is not None,
        state_labels=STATE_LABELS,
        sender=await services.sender_for(org.path),
        unit_base=_base(org),
        can_send=_can_send(request, org),
    )


@get("/suppressions", guards=EDIT)
async def suppressions_page(
    request: Request, org: OrgScope, q: str | None = None, cursor: str | None = None
) -> Response[str]:
    """Addresses of the unit's people that are suppressed (refused for good), searchable."""
    query = (q or "").strip()
    page = await console_services.suppressions(org.path, query, PAGE_SIZE, cursor)
    title = translate(request, "Suppression list")
    return await render_console(
        request,
        "mailings/suppressions.html.jinja",
        title=title,
        breadcrumbs=_crumbs(request, org, (title, f"{_base(org)}/suppressions")),
        base=_base(org),
        rows=page.items,
        q=query,
        next_href=next_page_href(f"{_base(org)}/suppressions", page.next_cursor, q=query),
        can_send=_can_send(request, org),
    )


@post("/suppressions/{suppression_id:int}/remove", guards=SEND, status_code=303)
async def suppression_remove(request: Request, org: OrgScope, suppression_id: int) -> Response:
    """Take an address off the list (the same service as ``DELETE …/suppressions/{id}``)."""
    await console_services.remove_suppression(org.id, org.path, suppression_id)
    message = translate(request, "Removed: mailings reach the address again.")
    return see_other(f"{_base(org)}/suppressions", message)


def mailing_pages() -> list[Any]:
    """The handlers of the mailing pages, mounted under ``/app/orgs/{org_id}/mailings``."""
    return [
        mailing_list,
        mailing_new,
        mailing_create,
        new_preview_fragment,
        mailing_page,
        preview_page,
        preview_fragment,
        mailing_update,
        send_test,
        mailing_delete,
        confirm_page,
        send,
        pause,
        resume,
        cancel,
        stats_page,
        suppressions_page,
        suppression_remove,
    ]
