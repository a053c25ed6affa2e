"""Phone numbers in E.164 form (``phonenumbers``)."""

from __future__ import annotations

import phonenumbers

__all__ = ["normalize_phone"]


def normalize_phone(raw: str, region: str) -> str | None:
    """``030 1234567`` in region ``DE`` → ``+49301234567``; ``None`` when not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
