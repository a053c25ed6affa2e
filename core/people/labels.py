"""The labels people's fields carry on console pages (marked for translation, shown with ``_``)."""

from __future__ import annotations

from core.problems import N_

__all__ = ["FIELD_LABELS"]

FIELD_LABELS = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "email": N_("E-mail address"),
    "phone": N_("Phone"),
    "street": N_("Street and number"),
    "postal_code": N_("Postal code"),
    "city": N_("City"),
    "country": N_("Country"),
    "language": N_("Language"),
    "member_status": N_("Member status"),
    "membership_number": N_("Membership number"),
    "source": N_("Source"),
    "tags": N_("Tags"),
    "notes": N_("Notes"),
    "home_org_id": N_("Home unit"),
}
