"""People who come through a public form: unverified until the owner of the channel confirms.

A public form (event sign-up, the linksaktiv join) is filled in by anyone who knows a name, an
e-mail address or a phone number. So what it sends never touches an existing record: it
becomes a new *pending* person (``person.pending``) with the form's data and its consents
stored as ``pending``. Only when the sender follows the link mailed to the address they gave
(:func:`confirm_person`) is the record confirmed: its e-mail consents become granted and, if
a confirmed person already holds that address, the pending record is merged into them (the
owner of the address has now proved who they are). A phone number never opens a record: a
pending record that shares a phone with someone stays separate and shows among the
duplicates (``GET …/people/duplicates``) for an organizer to merge.
"""

from __future__ import annotations

from core import db
from core.modules import ModuleRegistry
from core.people.consent import record_consent
from core.people.merge import merge_people
from core.people.schemas import ConsentIn
from core.people.services import name_keys, normalize_email_address, normalize_phones
from core.people.tables import Person, PersonPhone
from core.tables import utcnow

__all__ = ["confirm_person", "create_pending_person"]


async def create_pending_person(
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
) -> int:
    """A new pending person holding what the form sent; consents stored as pending.

    Call inside a transaction. Nobody else's record is read or changed.

    Raises:
        Problem: 422 naming ``email`` or ``phone`` when the value cannot be read.
    """
    email = normalize_email_address(email)
    phones = normalize_phones([phone], region) if phone and phone.strip() else []
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
            pending=True,
        )
    ).run()
    person_id = rows[0]["id"]
    if phones:
        await PersonPhone.insert(PersonPhone(person=person_id, e164=phones[0], position=0)).run()
    for entry in consents:
        await record_consent(person_id, entry, default_source=source, pending=True)
    return person_id


async def confirm_person(person_id: int, registry: ModuleRegistry, reference: str) -> int | None:
    """The sender of a public form followed the link mailed to their address.

    A pending record is confirmed: each of its pending e-mail consents is granted (with
    ``reference`` as proof), then, if a confirmed person already has the same address, the
    record is merged into them. Returns the id of the person who now holds the data (the
    same id when nothing was merged), or ``None`` when the person no longer exists.
    Confirming again changes nothing. Call inside a transaction.
    """
    row = await db.fetch_one("SELECT id, email, pending FROM person WHERE id = {}", person_id)
    if row is None:
        return None
    if not row["pending"]:
        return person_id
    pending_email = await db.fetch(
        "SELECT channel, purpose, source, wording FROM consent_event "
        "WHERE person_id = {} AND channel = 'email' AND status = 'pending' ORDER BY id",
        person_id,
    )
    for entry in pending_email:
        await record_consent(
            person_id,
            ConsentIn(
                channel="email",
                status="granted",
                source=entry["source"],
                purpose=entry["purpose"],
                wording=entry["wording"],
                reference=reference,
            ),
        )
    await db.execute(
        "UPDATE person SET pending = {}, updated_at = {} WHERE id = {}", False, utcnow(), person_id
    )
    owner = (
        await db.fetch_one(
            "SELECT id FROM person WHERE email = {} AND NOT pending AND id <> {} "
            "ORDER BY id LIMIT 1",
            row["email"],
            person_id,
        )
        if row["email"]
        else None
    )
    if owner is None:
        return person_id
    await merge_people(owner["id"], [person_id], {}, "/", registry)
    return owner["id"]
