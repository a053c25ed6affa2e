"""The volunteer's console pages: my calls, and the call screen (card, report, save and
next, save and pause, skip, the empty queue explained).

Thin like ``call_routes.py``: each handler reads the form and calls the same services as the
JSON routes (``plugins.calling.caller``), which audit their own operations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import cmarkgfm
import msgspec
from litestar import Request, Response, get, post

from core import MenuItem
from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    call_card_sections,
    call_grant,
    console_form_errors,
    console_locale,
    render_console,
    requires,
    see_other,
    translate,
    utcnow,
)
from plugins.calling import caller, roster
from plugins.calling.assignments import assignment_state
from plugins.calling.filters import Outcome
from plugins.calling.schemas import CallOut, CallReport, PreviousCall, Question
from plugins.calling.views import survey_of

__all__ = ["caller_menu", "caller_pages"]

CALL = [requires("calling.call")]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]
OUTCOME_LABELS = {
    "reached": N_("Reached"),
    "no_answer": N_("No answer"),
    "busy": N_("Busy"),
    "voicemail": N_("Voicemail"),
    "call_back": N_("Call back"),
    "not_available": N_("Not available"),
    "wrong_number": N_("Wrong number"),
    "do_not_call": N_("Does not want calls"),
}
PRESET_LABELS = {
    "later_today": N_("Later today"),
    "tomorrow_evening": N_("Tomorrow evening"),
    "next_week": N_("Next week"),
    "at": N_("At a time"),
}
STATE_LABELS = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "open": N_("Open"),
    "closed": N_("Closed"),
}
MEMBER_LABELS = {
    "member": N_("Member"),
    "former_member": N_("Former member"),
    "sympathizer": N_("Sympathizer"),
    "contact": N_("Contact"),
}
FIELDS = (
    "outcome",
    "notes",
    "call_back",
    "call_back_at",
    "phone",
    "corrected_phone",
    "organizer_action",
    "skip_reason",
)
_MY_CALLS_PAGE = 50


def _base(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/calling"


def _call_href(org: OrgScope, assignment_id: int) -> str:
    return f"{_base(org)}/assignments/{assignment_id}/call"


@get("/mine", guards=CALL)
async def my_calls(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """Every assignment the user may call for, across units (the service of
    ``GET /api/me/calling``), with its progress and the calls they left open."""
    page = await caller.my_assignments(
        actor, _MY_CALLS_PAGE, request.query_params.get("cursor") or None, utcnow()
    )
    counts = await caller.progress([a.id for a in page.items], actor.user_id)
    next_href = f"{_base(org)}/mine?cursor={page.next_cursor}" if page.next_cursor else None
    return await render_console(
        request,
        "calling/mine.html.jinja",
        title=translate(request, "My calls"),
        assignments=page.items,
        counts=counts,
        state_labels=STATE_LABELS,
        next_href=next_href,
    )


def _instructions_html(text: str) -> str:
    """The assignment's Markdown instructions as HTML (CommonMark's safe mode: raw HTML and
    dangerous links are dropped)."""
    return cmarkgfm.markdown_to_html(text or "")


async def _screen(
    request: Request,
    actor: Actor,
    org: OrgScope,
    assignment: dict[str, Any],
    *,
    card: CallOut | None = None,
    expired: bool = False,
    lost: bool = False,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    empty: bool = False,
    status: int = 200,
) -> Response[str]:
    """The call screen: the card with its report form, or the queue's state."""
    now = utcnow()
    state = assignment_state(assignment["start_at"], assignment["end_at"], now)
    sections: list[Any] = []
    grant = ""
    if card is not None and not lost:
        grant = call_grant(card.person.id, actor.user_id)
        sections = await call_card_sections(
            request.app.state.orga.registry,
            person_id=card.person.id,
            org_id=org.id,
            org_path=org.path,
            assignment_org_id=assignment["org_id"],
            actor=actor,
            locale=console_locale(request),
        )
    queue_state = None
    if card is None and state == "open":
        queue_state = await caller.queue_status(assignment["id"], now)
    title = (
        f"{card.person.first_name} {card.person.last_name}".strip()
        if card is not None
        else assignment["title"]
    )
    return await render_console(
        request,
        "calling/call.html.jinja",
        status=status,
        title=title,
        breadcrumbs=[
            (translate(request, "My calls"), f"{_base(org)}/mine"),
            (assignment["title"], _call_href(org, assignment["id"])),
        ],
        assignment=assignment,
        state=state,
        state_labels=STATE_LABELS,
        instructions=_instructions_html(assignment["instructions"]),
        card=card,
        expired=expired,
        lost=lost,
        empty=empty,
        queue=queue_state,
        sections=sections,
        grant=grant,
        here=_call_href(org, assignment["id"]),
        base=_base(org),
        values=values or {},
        errors=errors or {},
        outcomes=OUTCOMES,
        outcome_labels=OUTCOME_LABELS,
        presets=caller.CALL_BACK_PRESETS,
        preset_labels=PRESET_LABELS,
        member_labels=MEMBER_LABELS,
    )


@get("/assignments/{assignment_id:int}/call", guards=CALL)
async def call_screen(
    request: Request, actor: Actor, org: OrgScope, assignment_id: int
) -> Response[str]:
    """The caller's open call of the assignment (resumed, even when its time ran out), else
    the button to start, or why nobody is left to call."""
    assignment, _caller = await roster.assignment_and_caller(assignment_id, org.path, actor.user_id)
    live = await caller.live_call(assignment_id, actor.user_id)
    card = None
    expired = lost = False
    if live is not None:
        card = await caller.open_card(live["id"], org.path, actor.user_id)
        expired = card.reserved_until <= utcnow()
        lost = bool(live["taken"])
    empty = request.query_params.get("empty") == "1"
    return await _screen(
        request, actor, org, assignment, card=card, expired=expired, lost=lost, empty=empty
    )


def _after_next(org: OrgScope, assignment_id: int, found: Any) -> Response:
    """To the call screen: the new card, or the empty queue explained."""
    href = _call_href(org, assignment_id)
    return see_other(href if found is not None else f"{href}?empty=1")


@post("/assignments/{assignment_id:int}/call/next", guards=CALL, status_code=303)
async def start_calling(
    request: Request, actor: Actor, org: OrgScope, assignment_id: int
) -> Response:
    """Reserve the next person (the service of ``POST …/next``) and show their card."""
    assignment, entry = await caller.open_assignment(
        assignment_id, org.path, actor.user_id, utcnow()
    )
    found = await caller.save_and_next(actor, org.path, assignment, entry, None, utcnow())
    return _after_next(org, assignment_id, found)


def _answers(form: Any, survey: list[Question]) -> dict[str, str | list[str]]:
    """The survey's answers as the report takes them (empty ones left out)."""
    answers: dict[str, str | list[str]] = {}
    for question in survey:
        given = [v.strip() for v in form.getall(f"answers.{question.key}", []) if v.strip()]
        if not given:
            continue
        multiple = question.kind == "choice" and question.multiple
        answers[question.key] = given if multiple else given[0]
    return answers


def _read_report(
    request: Request, form: Any, survey: list[Question], now: datetime
) -> tuple[CallReport | None, dict[str, str]]:
    """The report form as :class:`CallReport`, or the errors beside its fields."""
    errors: dict[str, str] = {}
    outcome = form.get("outcome") or ""
    if outcome not in OUTCOMES:
        errors["outcome"] = translate(request, "Choose how the call went.")
    after = None
    if outcome == "call_back":
        try:
            after = caller.call_back_time(
                form.get("call_back") or "",
                form.get("call_back_at") or "",
                now,
                request.app.state.orga.settings.timezone,
            )
        except Problem as exc:
            errors |= console_form_errors(request, exc, FIELDS)
    phone = (form.get("phone") or "").strip() or None
    if outcome == "wrong_number" and not phone:
        errors["phone"] = translate(request, "Choose the wrong number.")
    action = (form.get("organizer_action") or "").strip()
    if form.get("organizer_action_needed") and not action:
        errors["organizer_action"] = translate(request, "Say what the organizers should do.")
    if errors:
        return None, errors
    values = {
        "outcome": outcome,
        "notes": (form.get("notes") or "").strip() or None,
        "call_back_after": after,
        "phone": phone if outcome == "wrong_number" else None,
        "corrected_phone": (form.get("corrected_phone") or "").strip() or None
        if outcome == "wrong_number"
        else None,
        "answers": _answers(form, survey),
        "wants_local_contact": bool(form.get("wants_local_contact")),
        "organizer_action": action if form.get("organizer_action_needed") else None,
    }
    try:
        return msgspec.convert(values, CallReport), {}
    except msgspec.ValidationError as exc:
        return None, console_form_errors(request, exc, FIELDS)


def _form_values(form: Any) -> dict[str, Any]:
    """Everything typed into the report form, to show it again."""
    values: dict[str, Any] = {key: form.get(key) or "" for key in FIELDS}
    values["wants_local_contact"] = bool(form.get("wants_local_contact"))
    values["organizer_action_needed"] = bool(form.get("organizer_action_needed"))
    values["answers"] = {
        key[len("answers.") :]: form.getall(key, [])
        for key in form.keys()
        if key.startswith("answers.")
    }
    return values


def _field_errors(request: Request, exc: Problem, survey: list[Question]) -> dict[str, str]:
    """A refused report's errors under the form's field names (save and next names them
    under ``previous.report``; the form's call-back time is ``call_back_at``)."""
    if not exc.errors:
        return console_form_errors(request, exc, FIELDS)
    renamed = {"call_back_after": "call_back_at"}
    found = {}
    for error in exc.errors:
        name = error.field.removeprefix("previous.report.")
        found[renamed.get(name, name)] = error.message
    questions = tuple(f"answers.{q.key}" for q in survey)
    return console_form_errors(request, found, (*FIELDS, *questions))


@post("/assignments/{assignment_id:int}/calls/{call_id:int}", guards=CALL, status_code=303)
async def report_call(
    request: Request, actor: Actor, org: OrgScope, assignment_id: int, call_id: int
) -> Response:
    """The report of the open call, then: ``next`` (save and next, ONE service call),
    ``pause`` (save, back to my calls) or ``skip`` (give the person back with a reason and
    take the next). Errors: the card again with the errors beside the fields (422); when
    the person went to another caller meanwhile, the card says so and keeps the notes."""
    assignment, entry = await caller.open_assignment(
        assignment_id, org.path, actor.user_id, utcnow()
    )
    form = await request.form()
    action = form.get("action") or "next"
    now = utcnow()
    if action == "skip":
        reason = (form.get("skip_reason") or "").strip()[:500]
        await caller.skip(actor, org.path, call_id, reason, now)
        found = await caller.save_and_next(actor, org.path, assignment, entry, None, now)
        return _after_next(org, assignment_id, found)
    survey = survey_of(assignment)
    data, errors = _read_report(request, form, survey, now)
    lost = False
    if data is not None:
        try:
            if action == "pause":
                await caller.report(actor, org.path, call_id, data, now)
                message = translate(request, "Saved. Take a break; your calls wait here.")
                return see_other(f"{_base(org)}/mine", message)
            previous = PreviousCall(call_id=call_id, report=data)
            found = await caller.save_and_next(actor, org.path, assignment, entry, previous, now)
            return _after_next(org, assignment_id, found)
        except Problem as exc:
            if exc.slug == "reservation-lost":
                lost = True
            elif exc.status == 409:  # saved already (a second click), or skipped
                message = translate(request, "This call is no longer open.")
                return see_other(_call_href(org, assignment_id), message, kind="error")
            else:
                errors = _field_errors(request, exc, survey)
    # shown again: the card (a read, audited) with the errors, or saying it went elsewhere
    card = await caller.open_card(call_id, org.path, actor.user_id)
    return await _screen(
        request,
        actor,
        org,
        assignment,
        card=card,
        expired=card.reserved_until <= now,
        lost=lost,
        values=_form_values(form),
        errors=errors,
        status=409 if lost else 422,
    )


def caller_pages() -> list:
    """The volunteer's page handlers."""
    return [my_calls, call_screen, start_calling, report_call]


def caller_menu() -> list[MenuItem]:
    """The volunteer's menu entry."""
    return [MenuItem(label=N_("My calls"), path="mine", permission="calling.call", order=45)]
