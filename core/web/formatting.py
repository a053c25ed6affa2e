"""Numbers, dates and phone numbers for the reader's language (Jinja2 filters of the one
template environment): ``{{ n|number(locale) }}``, ``{{ at|datetime(locale) }}``,
``{{ day|date(locale) }}``, ``{{ e164|phone(locale) }}``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

__all__ = ["install_filters"]


def install_filters(env, timezone: str) -> None:
    """Add the filters to ``env``; times are shown in the deployment's ``timezone``."""
    zone = ZoneInfo(timezone)

    def number(value: float | int | None, locale: str) -> str:
        return "" if value is None else format_decimal(value, locale=locale)

    def when(value: datetime | None, locale: str, style: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(zone), format=style, locale=locale)

    def day(value: date | datetime | None, locale: str, style: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(zone).date()
        return format_date(value, format=style, locale=locale)

    def phone(value: str | None, locale: str = "de") -> str:
        if not value:
            return ""
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return value
        home = {"de": "DE", "sv": "SE", "en": "GB"}.get(locale, "DE")
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if phonenumbers.region_code_for_number(parsed) == home
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        return phonenumbers.format_number(parsed, style)

    env.filters.update(number=number, datetime=when, date=day, phone=phone)
