"""The public sign-up: read the form, match or create the person with consent proof, sign up,
mail the confirmation link (with the personal cancel link)."""

from __future__ import annotations

from typing import Any

from core.api import ConsentIn, Problem, create_pending_person, db, gettext, record
from plugins.events import participation
from plugins.events.shifts import shift_rows

__all__ = ["SignupResult", "consent_wording", "sign_up"]

_MAX = {"first_name": 100, "last_name": 100, "email": 254, "phone": 40}


def consent_wording(locale: str, unit_name: str, event_title: str) -> str:
    """The consent text next to the checkbox; stored word for word as proof (Art. 7(1))."""
    return gettext(
        "I agree that %(unit)s stores my name and contact details to organize "
        "“%(event)s” and contacts me about this event. I can withdraw this at any time.",
        locale,
    ) % {"unit": unit_name, "event": event_title}


class SignupResult:
    """Outcome of a public sign-up: the participation (``rows``: one per shift picked), or
    field errors to show."""

    def __init__(
        self,
        row: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        rows: list[dict[str, Any]] | None = None,
    ) -> None:
        self.row = row
        self.rows = rows or []
        self.errors = errors or {}


def _check(form: dict[str, str], locale: str) -> tuple[dict[str, str], dict[str, str]]:
    values = {key: (form.get(key) or "").strip() for key in _MAX}
    errors: dict[str, str] = {}
    for key in ("first_name", "last_name"):
        if not values[key]:
            errors[key] = gettext("Please fill in this field.", locale)
    for key, size in _MAX.items():
        if len(values[key]) > size:
            errors[key] = gettext("This is too long.", locale)
    if not values["email"] and not values["phone"]:
        errors["email"] = gettext("Please give an e-mail address or a phone number.", locale)
    if form.get("consent") != "yes":
        errors["consent"] = gettext("We need your consent to sign you up.", locale)
    return values, errors


async def sign_up(
    unit: dict[str, Any],
    event: dict[str, Any],
    form: dict[str, str],
    locale: str,
    region: str,
    shift_ids: list[int] | None = None,
) -> SignupResult:
    """Sign the visitor up for ``event`` (waiting list when full) and mail the confirmation.
    For an event with shifts the visitor picks one or more (``shift_ids``): one
    participation per shift, a full one with a waiting list puts them on it.

    The visitor becomes a new pending person with pending consents (core's
    ``create_pending_person``), never an existing record, until they follow the link.
    """
    values, errors = _check(form, locale)
    offered = {row["id"] for row in await shift_rows(event["id"])}
    picked = [shift_id for shift_id in shift_ids or [] if shift_id in offered]
    if offered and not picked:
        errors["shift_ids"] = gettext("Please pick at least one shift.", locale)
    if errors:
        return SignupResult(errors=errors)
    wording = consent_wording(locale, unit["name"], event["title"])
    channels = [c for c, key in (("email", "email"), ("phone", "phone")) if values[key]]
    consents = [
        ConsentIn(
            channel=channel,  # type: ignore[arg-type]
            status="granted",
            source="web_form",
            purpose="events",
            wording=wording,
            reference=f"event:{event['id']}",
        )
        for channel in channels
    ]
    try:
        async with db.transaction():
            person_id = await create_pending_person(
                home_org_id=event["org_id"],
                first_name=values["first_name"],
                last_name=values["last_name"],
                email=values["email"] or None,
                phone=values["phone"] or None,
                region=region,
                source="event",
                consents=consents,
            )
            if picked:
                results = await participation.add_shifts(
                    event["id"], person_id, picked, "signed_up", "public", confirmed=False
                )
                rows = [row for row, _changed in results]
            else:
                row, _changed = await participation.add_participant(
                    event["id"], person_id, "signed_up", "public", confirmed=False
                )
                rows = [row]
            await participation.send_confirmation(rows, event["org_id"], locale)
            for row in rows:
                await record(
                    "events.public_signup",
                    org_id=event["org_id"],
                    object_type="participation",
                    object_id=row["id"],
                )
    except Problem as exc:
        if exc.errors:
            return SignupResult(errors={e.field: e.message for e in exc.errors})
        return SignupResult(errors={"form": exc.detail or exc.title})
    return SignupResult(row=rows[0], rows=rows)
