"""Phone numbers in E.164 form (``phonenumbers``)."""

from __future__ import annotations

import re

import phonenumbers

__all__ = ["normalize_phone"]

# What people write in a phone number: digits, a leading plus, and the usual separators.
# ``phonenumbers`` alone reads letters as a keypad's (``123abc`` → ``+49123222``) and drops
# trailing words ("ext 3"), so a typo or a name in the phone column became a number.
_WRITTEN = re.compile(r"[\s+()\-/.0-9]*[0-9][\s()\-/.0-9]*")


def normalize_phone(raw: str, region: str) -> str | None:
    """``030 1234567`` in region ``DE`` → ``+49301234567``; ``None`` when not a valid number
    or when it holds anything but digits, a leading ``+``, spaces and ``( ) - / .``."""
    if not _WRITTEN.fullmatch(raw.strip()):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
