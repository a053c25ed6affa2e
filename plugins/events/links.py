"""Personal links in mails and display helpers.

A confirm or cancel link carries the participation id and the person's link key
(core's ``person_token``): it dies with the person and with a change of their address.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_date_format, get_time_format

from core.api import current_runtime, db, person_token, person_tokens

__all__ = [
    "CANCEL",
    "CONFIRM",
    "cancel_url",
    "cancel_urls",
    "confirm_url",
    "event_url",
    "mail_event",
    "when_text",
    "with_shift",
]

CONFIRM = "events.confirm"
CANCEL = "events.cancel"


def _base() -> str:
    return current_runtime().settings.public_url.rstrip("/")


def event_url(org_id: int, event_id: int) -> str:
    """The public page of an event."""
    return f"{_base()}/p/events/{org_id}/{event_id}"


async def confirm_url(org_id: int, event_id: int, participation: dict[str, Any]) -> str:
    """The link that confirms a public sign-up."""
    token = await person_token(CONFIRM, participation["person_id"], participation["id"])
    return f"{event_url(org_id, event_id)}/confirm/{token}"


async def cancel_url(org_id: int, event_id: int, participation: dict[str, Any]) -> str:
    """The personal link that cancels a participation (shows a button; GET changes nothing)."""
    token = await person_token(CANCEL, participation["person_id"], participation["id"])
    return f"{event_url(org_id, event_id)}/cancel/{token}"


async def cancel_urls(org_id: int, event_id: int, participations: dict[int, int]) -> dict[int, str]:
    """Cancel links for many participations at once: ``{person_id: participation_id}`` to
    ``{person_id: link}``."""
    tokens = await person_tokens(CANCEL, participations)
    base = event_url(org_id, event_id)
    return {pid: f"{base}/cancel/{token}" for pid, token in tokens.items()}


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16)
def _formats(locale: str):
    """The parsed CLDR patterns of a locale (parsing them per call cost ~100 us an event)."""
    language = Locale.parse(locale)
    return language, get_date_format("full", locale=language), get_time_format("short", language)


@lru_cache(maxsize=8192)
def _day_text(day: date, locale: str) -> str:
    """``Mittwoch, 25. November 2026`` (many events share a day, so this is cached too)."""
    language, day_format, _clock = _formats(locale)
    return day_format.apply(day, language)


@lru_cache(maxsize=8192)
def _clock_text(hour: int, minute: int, locale: str) -> str:
    language, _day, clock_format = _formats(locale)
    return clock_format.apply(time(hour, minute), language)


def when_text(start_at: datetime, end_at: datetime, timezone: str, locale: str) -> str:
    """Start and end in the event's time zone and the reader's language (end time only
    when it is the same day)."""
    zone = _zone(timezone)
    start_local, end_local = start_at.astimezone(zone), end_at.astimezone(zone)

    def day(value: datetime) -> str:
        return _day_text(value.date(), locale)

    def clock(value: datetime) -> str:
        return _clock_text(value.hour, value.minute, locale)

    start = f"{day(start_local)}, {clock(start_local)}"
    if start_local.date() == end_local.date():
        return f"{start} \u2013 {clock(end_local)}"
    return f"{start} \u2013 {day(end_local)}, {clock(end_local)}"


def mail_event(row: dict[str, Any], locale: str) -> dict[str, Any]:
    """What mail templates know about an event."""
    location = db.json_value(row["location"]) or {}
    org_id = row["org_id"]
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "when": when_text(row["start_at"], row["end_at"], row["timezone"], locale),
        "location_name": location.get("name", ""),
        "location_address": location.get("address", ""),
        "url": event_url(org_id, row["id"]),
    }


def with_shift(row: dict[str, Any], shift: dict[str, Any]) -> dict[str, Any]:
    """The event's row as a shift of it is shown (mails, calendars): the shift's time, the
    shift's title after the event's."""
    title = f"{row['title']} \u2013 {shift['title']}" if shift["title"] else row["title"]
    return {**row, "title": title, "start_at": shift["start_at"], "end_at": shift["end_at"]}
