"""Sign-up with double opt-in, confirmation, interests, unsubscribe."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from core.api import (
    BadToken,
    ConsentIn,
    confirm_person,
    create_pending_person,
    current_runtime,
    db,
    invalid,
    open_person_token,
    person_token,
    receiving_unit,
    record_consent,
    sign,
    unsign,
    utcnow,
)
from plugins.linksaktiv.calls import me_url, topic_ids, touch_activity
from plugins.linksaktiv.config import config

__all__ = [
    "CONFIRM_PURPOSE",
    "SOURCE_PURPOSE",
    "JoinIn",
    "confirm",
    "join",
    "send_me_link",
    "set_topics",
    "source_link",
    "unsubscribe",
]

CONFIRM_PURPOSE = "linksaktiv.confirm"
SOURCE_PURPOSE = "linksaktiv.source"
_CORE_SOURCE = {"web": "web_form", "doors": "door_to_door"}

Help = Literal["newspapers", "info_stand", "doors", "phone", "online"]
Source = Literal["info_stand", "doors", "event", "social_media", "web"]
Short = Annotated[str, msgspec.Meta(max_length=200)]


class JoinIn(msgspec.Struct, forbid_unknown_fields=True):
    """A sign-up (JSON endpoint and the form, after parsing)."""

    first_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    last_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    postal_code: Annotated[str, msgspec.Meta(min_length=3, max_length=20)]
    consent: bool
    consent_wording: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    phone: Short | None = None
    topics: Annotated[list[Short], msgspec.Meta(max_length=50)] = []
    help: Annotated[list[Help], msgspec.Meta(max_length=5)] = []
    source: Source = "web"
    ref: Annotated[str, msgspec.Meta(max_length=2048)] | None = None


def source_link(org_id: int, source: str) -> str:
    """A join link that sets the unit and the source (for QR codes at info stands)."""
    base = current_runtime().settings.public_url.rstrip("/")
    return f"{base}/p/linksaktiv/join?ref={sign(SOURCE_PURPOSE, [org_id, source])}"


async def join(
    data: JoinIn, locale: str, *, unit: int | None = None, consent_source: str = "web_form"
) -> int:
    """Store a sign-up as a pending person and mail the confirmation link; returns its id.

    Nothing but the confirmation mail goes out before the link is followed, and no existing
    record is read or changed: whoever the address or phone belongs to, the sign-up is a new
    pending record until the owner of the address confirms it (core/people/signup.py).
    ``unit`` is the unit that took the sign-up in person (info-stand mode; else the signed
    ``ref`` names it), ``consent_source`` where the consent was given.
    """
    if not data.consent:
        raise invalid("consent", "please agree so that we may contact you")
    topics = await topic_ids(data.topics)
    source, source_org = data.source, unit
    if data.ref and unit is None:
        try:
            source_org, source = unsign(SOURCE_PURPOSE, data.ref)
        except (BadToken, ValueError, TypeError):
            raise invalid("ref", "this link is broken; use the plain form") from None
    home = await receiving_unit("linksaktiv", data.postal_code, source_org)
    runtime = current_runtime()
    async with db.transaction():
        person_id = await create_pending_person(
            home_org_id=home,
            first_name=data.first_name,
            last_name=data.last_name,
            email=data.email,
            phone=data.phone,
            region=runtime.settings.default_region,
            source=_CORE_SOURCE.get(source, source),
            postal_code=data.postal_code.strip(),
            consents=[
                ConsentIn(
                    channel=channel,
                    status="granted",
                    source=consent_source,
                    wording=data.consent_wording,
                    reference="linksaktiv.join",
                )
                for channel in ("email", "phone")
                if channel == "email" or data.phone
            ],
        )
        now = utcnow()
        await db.execute(
            "INSERT INTO linksaktiv_activist (person_id, status, source, source_org_id, "
            "help, consent_wording, last_active_at, created_at, updated_at) "
            "VALUES ({}, 'pending', {}, {}, {}, {}, {}, {}, {})",
            person_id,
            source,
            source_org,
            msgspec.json.encode(sorted(set(data.help))).decode(),
            data.consent_wording,
            now,
            now,
            now,
        )
        await _add_topics(person_id, topics, replace=False)
        email = (await db.fetch_one("SELECT email FROM person WHERE id = {}", person_id))["email"]
        base = runtime.settings.public_url.rstrip("/")
        token = await person_token(CONFIRM_PURPOSE, person_id)
        await runtime.mailer.send(
            to_email=email,
            template="mail/linksaktiv_confirm",
            context={"name": data.first_name, "link": f"{base}/p/linksaktiv/confirm/{token}"},
            locale=locale,
        )
    return person_id


async def _add_topics(person_id: int, topics: list[int], replace: bool) -> None:
    if replace:
        await db.execute("DELETE FROM linksaktiv_interest WHERE person_id = {}", person_id)
    if topics:
        await db.execute(
            "INSERT INTO linksaktiv_interest (person_id, topic_id) VALUES "
            + ", ".join(["({}, {})"] * len(topics))
            + " ON CONFLICT (person_id, topic_id) DO NOTHING",
            *[value for topic in topics for value in (person_id, topic)],
        )


async def set_topics(person_id: int, slugs: list[str]) -> None:
    """Replace the person's topics (from their page)."""
    topics = await topic_ids(slugs)
    async with db.transaction():
        await _add_topics(person_id, topics, replace=True)
        await touch_activity(person_id)


async def confirm(token: str) -> int | None:
    """Follow a confirmation link: the activist is confirmed, consent stored as proof.

    The sender has now proved the address is theirs, so the pending record is confirmed (its
    e-mail consent granted, the phone consent stays pending) and,
    if a confirmed person already has that address, merged into them (their topics and ways
    to help are added). Returns the id of the person, or ``None`` for a broken, expired or
    stale link. Confirming twice is harmless. A volunteer offering campaign help is referred
    on confirmation.
    """
    from plugins.linksaktiv.referrals import refer

    try:
        person_id, _value = await open_person_token(
            CONFIRM_PURPOSE, token, max_age=config().confirm_days * 86400
        )
    except BadToken:
        return None
    async with db.transaction():
        row = await db.fetch_one(
            "SELECT id, status, help, consent_wording FROM linksaktiv_activist "
            "WHERE person_id = {}",
            person_id,
        )
        if row is None:
            return None
        if row["status"] == "confirmed":
            return person_id
        now = utcnow()
        person_id = await confirm_person(
            person_id, current_runtime().registry, f"linksaktiv.double-opt-in:{now.isoformat()}"
        )
        if person_id is None:
            return None
        kept = await db.fetch_one(
            "SELECT id, help FROM linksaktiv_activist WHERE person_id = {}", person_id
        )
        helps = sorted(set(db.json_value(kept["help"]) or []) | set(db.json_value(row["help"])))
        await db.execute(
            "UPDATE linksaktiv_activist SET status = 'confirmed', confirmed_at = {}, help = {}, "
            "consent_wording = {}, last_active_at = {}, updated_at = {} WHERE id = {}",
            now,
            msgspec.json.encode(helps).decode(),
            row["consent_wording"],
            now,
            now,
            kept["id"],
        )
        if set(config().referral_help) & set(helps):
            await refer(person_id)
    return person_id


async def unsubscribe(person_id: int) -> None:
    """Leave the network: no more mail from it; the e-mail consent is withdrawn."""
    async with db.transaction():
        await db.execute(
            "UPDATE linksaktiv_activist SET status = 'unsubscribed', updated_at = {} "
            "WHERE person_id = {}",
            utcnow(),
            person_id,
        )
        await record_consent(
            person_id,
            ConsentIn(
                channel="email",
                status="withdrawn",
                source="web_form",
                reference="linksaktiv.unsubscribe",
            ),
        )


async def _mail_link(person_id: int, email: str, name: str, locale: str) -> None:
    await current_runtime().mailer.send(
        to_email=email,
        template="mail/linksaktiv_link",
        context={"name": name, "link": await me_url(person_id)},
        locale=locale,
    )


async def send_me_link(email: str, locale: str) -> None:
    """Mail a fresh personal-page link to a confirmed activist (silently nothing otherwise)."""
    address = email.strip().lower()
    row: dict[str, Any] | None = await db.fetch_one(
        "SELECT p.id, p.first_name, p.email FROM person p JOIN linksaktiv_activist a "
        "ON a.person_id = p.id WHERE p.email = {} AND a.status = 'confirmed' LIMIT 1",
        address,
    )
    if row is not None:
        await _mail_link(row["id"], row["email"], row["first_name"], locale)
