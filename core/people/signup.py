"""People who come through a public form: match an existing person, else create one.

Events and linksaktiv share this, so a person signing up twice (or already imported) is
matched, not duplicated. Matching is on the normalized e-mail, then on a phone number, inside
the whole deployment (a person has one record, whatever unit they first met).
"""

from __future__ import annotations

from typing import Any

from core import db
from core.people.consent import record_consent
from core.people.schemas import ConsentIn
from core.people.services import (
    name_keys,
    normalize_email_address,
    normalize_phones,
    refresh_phone_flag,
)
from core.people.tables import Person, PersonPhone

__all__ = ["match_or_create_person"]


async def _match(email: str | None, phones: list[str]) -> dict[str, Any] | None:
    if email:
        row = await db.fetch_one("SELECT * FROM person WHERE email = {} ORDER BY id LIMIT 1", email)
        if row is not None:
            return row
    for phone in phones:
        row = await db.fetch_one(
            "SELECT p.* FROM person p JOIN person_phone ph ON ph.person_id = p.id "
            "WHERE ph.e164 = {} ORDER BY p.id LIMIT 1",
            phone,
        )
        if row is not None:
            return row
    return None


async def match_or_create_person(
    *,
    home_org_id: int,
    first_name: str,
    last_name: str,
    email: str | None,
    phone: str | None,
    region: str,
    source: str,
    postal_code: str | None = None,
    consents: list[ConsentIn] = (),  # type: ignore[assignment]
) -> tuple[int, bool]:
    """The id of the matching or new person, and whether it was created.

    Call inside a transaction. A matched person keeps their data; missing e-mail, phone and
    postal code are filled in. Consents are appended to the history either way.

    Raises:
        Problem: 422 naming ``email`` or ``phone`` when the value cannot be read.
    """
    email = normalize_email_address(email)
    phones = normalize_phones([phone], region) if phone and phone.strip() else []
    row = await _match(email, phones)
    created = row is None
    if row is None:
        first_key, last_key = name_keys(first_name, last_name)
        rows = await Person.insert(
            Person(
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                first_key=first_key,
                last_key=last_key,
                email=email,
                postal_code=postal_code,
                home_org=home_org_id,
                source=source,
            )
        ).run()
        person_id = rows[0]["id"]
    else:
        person_id = row["id"]
        fill = {
            key: value
            for key, value in (("email", email), ("postal_code", postal_code))
            if value and not row[key]
        }
        if fill:
            columns = ", ".join(f"{key} = {{}}" for key in fill)
            await db.execute(
                f"UPDATE person SET {columns} WHERE id = {{}}", *fill.values(), person_id
            )
    if phones:
        known = await db.fetch_one(
            "SELECT 1 AS x FROM person_phone WHERE person_id = {} AND e164 = {}",
            person_id,
            phones[0],
        )
        if known is None:
            count = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM person_phone WHERE person_id = {}", person_id
            )
            await PersonPhone.insert(
                PersonPhone(person=person_id, e164=phones[0], position=count["n"])
            ).run()
            await refresh_phone_flag([person_id])
    for entry in consents:
        await record_consent(person_id, entry, default_source=source)
    return person_id, created
