"""Public pages under ``/p/events``: lists, event pages, sign-up, confirm, cancel, feeds.

No login, no JavaScript. Only public events of units with the module on are shown; drafts,
members-only and internal events answer 404 like events that do not exist.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post

from core.api import (
    CALENDAR,
    BadToken,
    Problem,
    RateLimit,
    current_runtime,
    db,
    decode_cursor,
    encode_cursor,
    form_errors,
    gettext,
    honeypot_tripped,
    open_person_token,
    page_locale,
    render_page,
    utcnow,
)
from plugins.events import feeds, participation
from plugins.events.config import events_config
from plugins.events.links import CANCEL, CONFIRM, cancel_url, when_text
from plugins.events.schemas import PublicEvents
from plugins.events.signup import consent_wording, sign_up

__all__ = ["public_handlers"]

CONFIRM_MAX_AGE = 60 * 60 * 24 * 30
FEED_LIMIT = 1000
FEED_CACHE_SIZE = 500
SIGNUP_FIELDS = ("first_name", "last_name", "email", "phone", "consent", "shift_ids")


def _limit(request: Request) -> RateLimit:
    """The sign-up rate limit of this app (one per app, so tests and apps do not share)."""
    state = request.app.state
    if "events_signup_limit" not in state:
        state["events_signup_limit"] = RateLimit(events_config().signup_limit, window=60)
    return state["events_signup_limit"]


def _not_found(request: Request) -> Response[str]:
    return render_page(request, "pages/events_missing.html.jinja", status=404)


def _view(row: dict[str, Any], locale: str) -> dict[str, Any]:
    location = db.json_value(row["location"]) or {}
    free = None
    if row.get("capacity") is not None and "taken" in row:
        free = max(0, row["capacity"] - int(row["taken"]))
    place = ", ".join(p for p in (location.get("name"), location.get("address")) if p)
    return {
        **row,
        "location": location,
        "place": place,
        "when": when_text(row["start_at"], row["end_at"], row["timezone"], locale),
        "free": free,
        "over": row["end_at"] <= utcnow(),
    }


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    try:
        key = decode_cursor(cursor, tuple[str, int])
        return (datetime.fromisoformat(key[0]), int(key[1])) if key else None
    except (Problem, ValueError, IndexError, TypeError):
        return None


def _shift_view(shift: dict[str, Any], timezone: str, locale: str) -> dict[str, Any]:
    """A shift as the sign-up form offers it: full ones without waiting list are disabled."""
    free = None if shift["capacity"] is None else max(0, shift["capacity"] - int(shift["taken"]))
    return {
        "id": shift["id"],
        "title": shift["title"],
        "when": when_text(shift["start_at"], shift["end_at"], timezone, locale),
        "free": free,
        "full": free == 0,
        "waiting_list": bool(shift["waiting_list"]),
    }


async def _shifts(row: dict[str, Any], locale: str) -> list[dict[str, Any]]:
    return [_shift_view(s, row["timezone"], locale) for s in await feeds.public_shifts(row["id"])]


def _picked(form: Any) -> list[int]:
    """The shift ids ticked in the sign-up form (anything else is dropped)."""
    return [int(v) for v in form.getall("shift_ids", []) if isinstance(v, str) and v.isdecimal()]


async def _unit_or_none(org_id: int) -> dict[str, Any] | None:
    return await feeds.public_unit(org_id)


@get("/{org_id:int}", summary="Public events of a unit")
async def event_list(
    request: Request, org_id: int, subtree: bool = False, cursor: str | None = None
) -> Response[str]:
    """Upcoming public events of the unit (``?subtree=true``: and of the units below it),
    a page at a time (``cursor`` from the "later events" link)."""
    unit = await _unit_or_none(org_id)
    if unit is None:
        return _not_found(request)
    limit = events_config().public_list_limit
    rows = await feeds.public_events(
        unit, subtree, limit + 1, after=_after(cursor), columns=feeds.LIST_COLUMNS
    )
    later = None
    if len(rows) > limit:
        rows = rows[:limit]
        later = encode_cursor([rows[-1]["start_at"].isoformat(), rows[-1]["id"]])
    locale = page_locale(request)
    return render_page(
        request,
        "pages/events_list.html.jinja",
        unit=unit,
        subtree=subtree,
        events=[_view(r, locale) for r in rows],
        later=later,
    )


@get("/{org_id:int}/feed.ics", summary="iCalendar feed of a unit's public events")
async def unit_feed(request: Request, org_id: int, subtree: bool = False) -> Response[bytes]:
    """RFC 5545 feed: the unit's public, published events (recent and upcoming).

    Building a feed costs ~0.5 ms an event, so each process keeps the last feeds with a
    fingerprint of their events (one indexed query); ``If-None-Match`` answers 304.
    """
    unit = await _unit_or_none(org_id)
    if unit is None:
        raise Problem(404, "not-found", "No public events here.")
    past = events_config().feed_past_days
    version = await feeds.feed_version(unit, subtree, past)
    etag = '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    cache = _feed_cache(request)
    key = (org_id, subtree)
    cached = cache.get(key)
    if cached is None or cached[0] != etag:
        rows = await feeds.public_events(unit, subtree, FEED_LIMIT, past_days=past, cancelled=True)
        public_url = request.app.state.orga.settings.public_url
        cached = (etag, feeds.calendar_bytes(rows, unit["name"], public_url))
        cache[key] = cached
        cache.move_to_end(key)
        while len(cache) > FEED_CACHE_SIZE:
            cache.popitem(last=False)
    return Response(cached[1], media_type=CALENDAR, headers=headers)


def _feed_cache(request: Request) -> OrderedDict:
    state = request.app.state
    if "events_feed_cache" not in state:
        state["events_feed_cache"] = OrderedDict()
    return state["events_feed_cache"]


@get(
    "/{org_id:int}/events.json",
    summary="Public events as JSON for embedding",
    include_in_schema=True,
    operation_id="events_public_list",
)
async def unit_json(org_id: int, subtree: bool = False) -> Response[PublicEvents]:
    """The upcoming public events as JSON (CORS open, for party websites)."""
    unit = await _unit_or_none(org_id)
    if unit is None:
        raise Problem(404, "not-found", "No public events here.")
    rows = await feeds.public_events(unit, subtree, events_config().public_list_limit)
    return Response(
        feeds.embed_json(rows),
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"},
    )


async def _event_page(
    request: Request, org_id: int, event_id: int, status: int = 200, **extra: Any
) -> Response[str]:
    unit = await _unit_or_none(org_id)
    row = await feeds.public_event(org_id, event_id) if unit else None
    if unit is None or row is None:
        return _not_found(request)
    locale = page_locale(request)
    return render_page(
        request,
        "pages/events_event.html.jinja",
        status=status,
        unit=unit,
        event=_view(row, locale),
        shifts=await _shifts(row, locale),
        picked=extra.pop("picked", []),
        consent_text=consent_wording(locale, unit["name"], row["title"]),
        values=extra.pop("values", {}),
        errors=extra.pop("errors", {}),
        **extra,
    )


@get("/{org_id:int}/{event_id:int}", summary="Public event page")
async def event_page(request: Request, org_id: int, event_id: int) -> Response[str]:
    """The event with its sign-up form."""
    return await _event_page(request, org_id, event_id)


@get("/{org_id:int}/{event_id:int}/event.ics", summary="One event as iCalendar")
async def event_ics(
    request: Request, org_id: int, event_id: int, shift: list[int] | None = None
) -> Response[bytes]:
    """The event as an RFC 5545 file (a cancelled one says STATUS:CANCELLED), one entry per
    shift when it has shifts (``?shift=<id>``, repeatable: only those, as the sign-up's
    confirmation links it); answers 304 to a matching ``If-None-Match``."""
    unit = await _unit_or_none(org_id)
    row = await feeds.public_event(org_id, event_id) if unit else None
    if unit is None or row is None:
        raise Problem(404, "not-found", "No such public event.")
    own = [s for s in await feeds.public_shifts(event_id) if not shift or s["id"] in shift]
    etag = feeds.ics_etag([row, *own])
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    public_url = request.app.state.orga.settings.public_url
    body = feeds.calendar_bytes([row], unit["name"], public_url, {row["id"]: own})
    return Response(body, media_type=CALENDAR, headers=headers)


@post("/{org_id:int}/{event_id:int}/signup", summary="Sign up for an event", status_code=200)
async def signup(request: Request, org_id: int, event_id: int) -> Response[str]:
    """Sign up through the form (``shift_ids`` repeated for each shift ticked); the visitor
    gets a confirmation mail with a cancel link."""
    form = await request.form()
    data = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        _limit(request).check(request)
    except Problem:
        message = gettext(
            "Too many sign-ups from your address. Please try again in a minute.",
            page_locale(request),
        )
        return await _event_page(
            request, org_id, event_id, status=429, values=data, errors={"form": message}
        )
    unit = await _unit_or_none(org_id)
    event = await feeds.public_event(org_id, event_id) if unit else None
    if unit is None or event is None:
        return _not_found(request)
    locale = page_locale(request)
    if honeypot_tripped(data):  # look like success, do nothing
        return render_page(
            request,
            "pages/events_signed_up.html.jinja",
            event=event,
            mail=True,
            waiting=False,
            shifts=[],
            waiting_shifts=[],
            ics_query="",
        )
    if event["state"] != "published" or event["end_at"] <= utcnow():
        return await _event_page(request, org_id, event_id, status=409)
    region = request.app.state.orga.settings.default_region
    picked = _picked(form)
    result = await sign_up(unit, event, data, locale, region, picked)
    if result.errors:
        errors = form_errors(result.errors, locale, SIGNUP_FIELDS)
        return await _event_page(
            request, org_id, event_id, status=422, values=data, errors=errors, picked=picked
        )
    assert result.row is not None
    shift_ids = [row["shift_id"] for row in result.rows if row["shift_id"] is not None]
    shifts = [s for s in await _shifts(event, locale) if s["id"] in shift_ids]
    return render_page(
        request,
        "pages/events_signed_up.html.jinja",
        event=event,
        mail=bool((data.get("email") or "").strip()),
        waiting=all(row["status"] == "waiting" for row in result.rows),
        shifts=shifts,
        waiting_shifts=[r["shift_id"] for r in result.rows if r["status"] == "waiting"],
        ics_query="&".join(f"shift={i}" for i in shift_ids),
    )


async def _participation_for(token: str, purpose: str, event_id: int, max_age: float | None):
    """The participation a personal link stands for, while its person keeps the link key."""
    try:
        person_id, participation_id = await open_person_token(purpose, token, max_age=max_age)
    except BadToken:
        return None
    if not isinstance(participation_id, int):
        return None
    row = await participation.get_participation(participation_id)
    ok = row and row["event_id"] == event_id and row["person_id"] == person_id
    return row if ok else None


@get("/{org_id:int}/{event_id:int}/confirm/{token:str}", summary="Confirm a sign-up")
async def confirm(request: Request, org_id: int, event_id: int, token: str) -> Response[str]:
    """Confirm a public sign-up from the mailed link; shows the personal cancel link.

    404 where the events module is off for the unit (cancelling, a withdrawal, still works)."""
    row = await _participation_for(token, CONFIRM, event_id, CONFIRM_MAX_AGE)
    unit = await _unit_or_none(org_id)
    event = await feeds.public_event(org_id, event_id) if unit else None
    if row is None or event is None:
        return _not_found(request)
    row = await participation.confirm_participation(row, current_runtime().registry)
    if row is None:
        return _not_found(request)
    return render_page(
        request,
        "pages/events_confirmed.html.jinja",
        event=event,
        participation=row,
        cancel_link=await cancel_url(org_id, event_id, row),
    )


@get("/{org_id:int}/{event_id:int}/cancel/{token:str}", summary="Cancel page")
async def cancel_page(request: Request, org_id: int, event_id: int, token: str) -> Response[str]:
    """Ask before cancelling (a link scanner following the GET cancels nothing)."""
    row = await _participation_for(token, CANCEL, event_id, None)
    event = await feeds.public_event(org_id, event_id)
    if row is None or event is None:
        return _not_found(request)
    return render_page(
        request, "pages/events_cancel.html.jinja", event=event, participation=row, done=False
    )


@post("/{org_id:int}/{event_id:int}/cancel/{token:str}", summary="Cancel", status_code=200)
async def cancel_submit(request: Request, org_id: int, event_id: int, token: str) -> Response[str]:
    """Cancel the participation the personal link stands for."""
    row = await _participation_for(token, CANCEL, event_id, None)
    event = await feeds.public_event(org_id, event_id)
    if row is None or event is None:
        return _not_found(request)
    row = await participation.cancel_participation(row)
    return render_page(
        request, "pages/events_cancel.html.jinja", event=event, participation=row, done=True
    )


def public_handlers() -> list:
    """Public route handlers of the events module."""
    return [
        event_list,
        unit_feed,
        unit_json,
        event_page,
        event_ics,
        signup,
        confirm,
        cancel_page,
        cancel_submit,
    ]
