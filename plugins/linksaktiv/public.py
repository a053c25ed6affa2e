"""Public pages under ``/p/linksaktiv``: join, confirm, personal page, new link; JSON join."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_202_ACCEPTED

from core.api import (
    BadToken,
    Problem,
    RateLimit,
    current_runtime,
    form_errors,
    gettext,
    honeypot_tripped,
    module_enabled,
    module_on_anywhere,
    open_person_token,
    page_locale,
    render_page,
)
from plugins.linksaktiv import calls as call_service
from plugins.linksaktiv import me as me_service
from plugins.linksaktiv.config import HELP_OPTIONS, config
from plugins.linksaktiv.join_links import open_short_link
from plugins.linksaktiv.signup import JoinIn, confirm, join, send_me_link

__all__ = ["consent_wording", "public_handlers", "read_join_form"]

_limits: dict[tuple[int, int], RateLimit] = {}
# The inputs of the join form that show their own error (others go above the form).
_JOIN_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "topics",
    "consent",
    "ref",
)


def _limit() -> RateLimit:
    """The sign-up throttle of the running app (one counter per app and setting)."""
    key = (id(current_runtime()), config().signups_per_minute)
    if key not in _limits:
        _limits[key] = RateLimit(key[1], 60.0)
    return _limits[key]


def consent_wording(locale: str) -> str:
    """The consent text shown on the form (stored with each sign-up as proof)."""
    return gettext(
        "I agree that the party stores my details to keep me informed about its campaigns "
        "and calls to action by e-mail (and by phone if I gave a number). I can withdraw at "
        "any time on my personal page or with the link in every mail.",
        locale,
    )


def read_join_form(form: Any, locale: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A join form's values (as ``JoinIn`` takes them, the consent wording of ``locale``)
    and the errors of empty required fields and a missing consent; the public form and the
    info-stand mode read the same fields this way."""
    values: dict[str, Any] = {
        "first_name": (form.get("first_name") or "").strip(),
        "last_name": (form.get("last_name") or "").strip(),
        "email": (form.get("email") or "").strip(),
        "phone": (form.get("phone") or "").strip() or None,
        "postal_code": (form.get("postal_code") or "").strip(),
        "topics": form.getall("topics", []),
        "help": [h for h in form.getall("help", []) if h in HELP_OPTIONS],
        "consent": form.get("consent") == "yes",
        "consent_wording": consent_wording(locale),
    }
    errors: dict[str, str] = {}
    for field in ("first_name", "last_name", "email", "postal_code"):
        if not values[field]:
            errors[field] = gettext("Please fill in this field.", locale)
    if not values["consent"]:
        errors["consent"] = gettext("We need your consent to sign you up.", locale)
    return values, errors


class JoinAccepted(msgspec.Struct):
    """The sign-up was taken; a confirmation mail is on its way."""

    status: str = "pending"


async def _join_page(request: Request, status: int = 200, **context: Any) -> Response[str]:
    values = {
        "topics": await call_service.topics(),
        "help_options": HELP_OPTIONS,
        "consent_text": consent_wording(page_locale(request)),
        "errors": {},
        "form": {},
        "ref": request.query_params.get("ref") or "",
        **context,
    }
    return render_page(request, "pages/linksaktiv/join.html.jinja", status=status, **values)


def _closed(request: Request) -> Response[str]:
    """The 404 page where linksaktiv is off for every unit that could take the sign-up."""
    return render_page(request, "pages/linksaktiv/closed.html.jinja", status=404)


@get("/join")
async def join_page(request: Request) -> Response[str]:
    """The sign-up form (works without JavaScript); 404 where linksaktiv is on for no unit."""
    if not await module_on_anywhere("linksaktiv"):
        return _closed(request)
    return await _join_page(request)


@get("/j/{org_id:int}/{source:str}/{mac:str}")
async def short_join_link(request: Request, org_id: int, source: str, mac: str) -> Response:
    """A printed join link (QR code, sheet): on to the join form with the unit and source
    signed in; a changed link is refused (the "link broken" page, 404)."""
    ref = open_short_link(org_id, source, mac)
    if ref is None:
        return render_page(request, "pages/linksaktiv/link_broken.html.jinja", status=404)
    return Redirect(ref, status_code=303)


@post("/join", status_code=200)
async def join_submit(request: Request) -> Response[str]:
    """Take the form; errors are shown next to their field."""
    _limit().check(request)
    form = await request.form()
    if honeypot_tripped(form):
        return render_page(request, "pages/linksaktiv/join_sent.html.jinja")
    locale = page_locale(request)
    values, errors = read_join_form(form, locale)
    values["ref"] = (form.get("ref") or "").strip() or None
    if not errors:
        try:
            data = msgspec.convert(values, JoinIn)
            await join(data, locale)
        except Problem as exc:
            if exc.status == 404:
                return _closed(request)
            errors = form_errors(exc, locale, _JOIN_FIELDS)
        except msgspec.ValidationError as exc:
            errors = form_errors(exc, locale, _JOIN_FIELDS)
    if errors:
        ref = values["ref"] or ""  # not None: the page would send "None" back as the ref
        return await _join_page(request, status=422, errors=errors, form=values, ref=ref)
    return render_page(request, "pages/linksaktiv/join_sent.html.jinja")


@post(
    "/api/join",
    status_code=HTTP_202_ACCEPTED,
    summary="Sign up from a party website (JSON)",
    include_in_schema=True,
    operation_id="linksaktiv_join",
)
async def join_json(request: Request, data: JoinIn) -> JoinAccepted:
    """Sign-up for embedding on the party website (CORS for the configured origins).

    The caller sends the consent wording it showed. Answers 202: a confirmation mail is
    on its way; nothing else is sent before the link in it is followed.
    """
    _limit().check(request)
    await join(data, page_locale(request))
    return JoinAccepted()


@get("/confirm/{token:str}")
async def confirm_page(request: Request, token: str) -> Response[str]:
    """Follow the link from the confirmation mail."""
    person_id = await confirm(token)
    if person_id is None:
        return render_page(request, "pages/linksaktiv/link_broken.html.jinja", status=400)
    return render_page(
        request,
        "pages/linksaktiv/confirmed.html.jinja",
        me_url=await call_service.me_url(person_id),
    )


async def _person_of(token: str) -> int | None:
    """The person whose personal-page link this is, while the link is valid."""
    try:
        person_id, _value = await open_person_token(
            call_service.ME_PURPOSE, token, max_age=config().link_days * 86400
        )
    except BadToken:
        return None
    return person_id


@get("/me")
async def me_page(request: Request, t: str = "", done: str = "") -> Response[str]:
    """The activist's own page, opened by the magic link."""
    person_id = await _person_of(t)
    page = await me_service.page_data(person_id) if person_id else None
    if page is None:
        return render_page(request, "pages/linksaktiv/link_broken.html.jinja", status=400)
    events: list[Any] = []
    events_module = config().events_module
    if await module_enabled(events_module, page["person"]["path"]):
        others = await current_runtime().registry.gather_each(
            "person_summary", person_id=person_id, org_id=page["person"]["home_org_id"]
        )
        events = [value for name, value in others if name == events_module]
    return render_page(
        request,
        "pages/linksaktiv/me.html.jinja",
        token=t,
        done=done,
        events=events,
        help_options=HELP_OPTIONS,
        **page,
    )


@post("/me", status_code=303)
async def me_submit(request: Request) -> Response:
    """The page's forms: topics, "I did it", order, report, unsubscribe, delete."""
    form = await request.form()
    token = form.get("t") or ""
    person_id = await _person_of(token)
    if person_id is None:
        return render_page(request, "pages/linksaktiv/link_broken.html.jinja", status=400)
    action = form.get("action") or ""
    if action == "delete":
        if form.get("sure") != "yes":
            return Redirect(f"/p/linksaktiv/me?t={token}&done=delete-unconfirmed", status_code=303)
        await me_service.erase_self(person_id)
        return render_page(request, "pages/linksaktiv/deleted.html.jinja")
    try:
        outcome = await me_service.act(person_id, action, form)
    except Problem as exc:
        message = form_errors(exc, page_locale(request), ())["form"]
        return await me_page_with_error(request, token, message)
    return Redirect(f"/p/linksaktiv/me?t={token}&done={outcome}", status_code=303)


async def me_page_with_error(request: Request, token: str, message: str) -> Response[str]:
    """The personal page again with an error above the forms."""
    person_id = await _person_of(token)
    page = await me_service.page_data(person_id) if person_id else None
    if page is None:
        return render_page(request, "pages/linksaktiv/link_broken.html.jinja", status=400)
    return render_page(
        request,
        "pages/linksaktiv/me.html.jinja",
        status=422,
        token=token,
        done="",
        error=message,
        events=[],
        help_options=HELP_OPTIONS,
        **page,
    )


@get("/me/export")
async def me_export(request: Request, t: str = "") -> Response:
    """What I gave and did, as JSON (GDPR Art. 20); the full Art. 15 copy, with what the
    party noted about me, is handed out by an organizer (``GET …/people/{id}/export``)."""
    person_id = await _person_of(t)
    export = await me_service.export_own_data(person_id) if person_id else None
    if export is None:
        return render_page(request, "pages/linksaktiv/link_broken.html.jinja", status=400)
    return Response(
        msgspec.json.encode(export),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@get("/link")
async def link_page(request: Request) -> Response[str]:
    """Ask for a new link to the personal page."""
    return render_page(request, "pages/linksaktiv/link.html.jinja", sent=False)


@post("/link", status_code=200)
async def link_submit(request: Request) -> Response[str]:
    """Mail a new link if the address belongs to a confirmed activist (same answer always)."""
    _limit().check(request)
    form = await request.form()
    if not honeypot_tripped(form) and (form.get("email") or "").strip():
        await send_me_link(form.get("email") or "", page_locale(request))
    return render_page(request, "pages/linksaktiv/link.html.jinja", sent=True)


def public_handlers() -> list:
    """Public route handlers (mounted under ``/p/linksaktiv``)."""
    return [
        join_page,
        join_submit,
        short_join_link,
        join_json,
        confirm_page,
        me_page,
        me_submit,
        me_export,
        link_page,
        link_submit,
    ]
