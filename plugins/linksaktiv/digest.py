"""The weekly digest: each activist hears about the new calls to action for them.

A run (job ``linksaktiv.digest``, scheduled for the next weekly slot whenever a call is
published, and again by each run while calls are open) works in two steps:

1. **Pick, set-based.** For every published, open call one ``INSERT … SELECT`` records the
   activists it is for (:func:`plugins.linksaktiv.calls.audience_sql`: region, topics,
   confirmed, e-mail consent, not off the digest) in ``linksaktiv_digest_item`` — one row per
   activist and call, so no call is sent to anyone twice — leaving out whoever already has a
   digest this week (``linksaktiv_activist.digest_week``, set for everyone picked; ISO week in
   the deployment's time zone: at most one mail a week). The
   activists picked get send jobs of :data:`CHUNK` people each, in the same transaction.
2. **Send, per chunk** (job ``linksaktiv.digest_send``): one mail per activist listing their
   items not mailed yet, with ``List-Unsubscribe`` (RFC 8058 one-click) and a link; the mail
   is queued and the items marked ``mailed_at`` in one transaction, and the mail's dedupe key
   names the activist and the week.

A crash anywhere repeats nothing: the pick commits with its jobs or not at all (a second
run the same week finds everyone already picked), and a send job run again skips those
whose items are marked. Unsubscribing withdraws the e-mail consent for the digest's purpose
in core consent (:data:`plugins.linksaktiv.calls.DIGEST_PURPOSE`); the network, the personal
page and other mail stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.api import (
    BadToken,
    ConsentIn,
    contactable_sql,
    current_runtime,
    db,
    enqueue_many,
    not_opted_out_sql,
    open_person_token,
    person_tokens,
    record_consent,
    utcnow,
)
from plugins.linksaktiv.calls import DIGEST_PURPOSE, ME_PURPOSE, audience_sql
from plugins.linksaktiv.schedule import RUN_JOB, schedule_digest, week_of

__all__ = [
    "CHUNK",
    "JOBS",
    "SEND_JOB",
    "enqueue_digest",
    "unsubscribe_digest",
    "unsubscribe_person",
]

SEND_JOB = "linksaktiv.digest_send"
UNSUBSCRIBE_PURPOSE = "linksaktiv.digest_unsubscribe"
#: Activists per send job.
CHUNK = 200


async def _open_calls(now: datetime) -> list[dict[str, Any]]:
    return await db.fetch(
        "SELECT id, org_id, topic_ids, region_ids FROM linksaktiv_call "
        "WHERE published_at IS NOT NULL AND starts_at <= {} "
        "AND (deadline IS NULL OR deadline >= {}) ORDER BY id",
        now,
        now,
    )


async def enqueue_digest(now: datetime | None = None) -> int:
    """Pick this week's digest items of every open call and queue their send jobs, in one
    transaction (set-based: one statement per call); returns how many activists get a
    digest from this run."""
    now = now or utcnow()
    week = week_of(now)
    typed = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres() else "{}"
    text = "CAST({} AS VARCHAR)" if db.is_postgres() else "{}"
    async with db.transaction():
        for call in await _open_calls(now):
            where, args = await audience_sql(call)
            await db.execute(
                "INSERT INTO linksaktiv_digest_item (person_id, call_id, week, queued_at) "
                f"SELECT a.person_id, {int(call['id'])}, {text}, {typed} "
                "FROM linksaktiv_activist a JOIN person p ON p.id = a.person_id "
                f"WHERE {where} AND (a.digest_week IS NULL OR a.digest_week <> {{}}) "
                "ON CONFLICT (person_id, call_id) DO NOTHING",
                week,
                now,
                *args,
                week,
            )
        # who was picked now has this week's digest: a later run this week leaves them out
        await db.execute(
            "UPDATE linksaktiv_activist SET digest_week = {} WHERE person_id IN "
            "(SELECT person_id FROM linksaktiv_digest_item WHERE week = {} AND queued_at = {})",
            week,
            week,
            now,
        )
        people = [
            r["person_id"]
            for r in await db.fetch(
                "SELECT DISTINCT person_id FROM linksaktiv_digest_item "
                "WHERE week = {} AND queued_at = {} ORDER BY person_id",
                week,
                now,
            )
        ]
        stamp = now.isoformat()
        jobs = [
            (
                {"week": week, "people": people[start : start + CHUNK]},
                f"{SEND_JOB}:{week}:{stamp}:{people[start]}",
            )
            for start in range(0, len(people), CHUNK)
        ]
        await enqueue_many(SEND_JOB, jobs)
    return len(people)


async def run_digest(payload: dict[str, Any]) -> None:
    """Job ``linksaktiv.digest``: pick and queue this week's digests, then schedule the next
    run while published calls are still open."""
    now = utcnow()
    await enqueue_digest(now)
    if await _open_calls(now):
        await schedule_digest(now)


async def _recipients(people: list[int]) -> list[dict[str, Any]]:
    """The people of a chunk the digest may still mail (they may have left meanwhile)."""
    marks = ", ".join(["{}"] * len(people))
    return await db.fetch(
        "SELECT p.id, p.email, p.first_name, p.last_name, p.language FROM person p "
        "JOIN linksaktiv_activist a ON a.person_id = p.id "
        f"WHERE p.id IN ({marks}) AND a.status = 'confirmed' AND p.email IS NOT NULL "
        f"AND {contactable_sql('email')} AND {not_opted_out_sql('email', 'p', DIGEST_PURPOSE)} "
        "ORDER BY p.id",
        *people,
    )


async def _items(people: list[int], week: str, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Each person's calls of the week not mailed yet, still published and open."""
    marks = ", ".join(["{}"] * len(people))
    rows = await db.fetch(
        "SELECT d.person_id, c.id, c.title, c.text, c.link, c.deadline "
        "FROM linksaktiv_digest_item d JOIN linksaktiv_call c ON c.id = d.call_id "
        f"WHERE d.person_id IN ({marks}) AND d.week = {{}} AND d.mailed_at IS NULL "
        "AND c.published_at IS NOT NULL AND (c.deadline IS NULL OR c.deadline >= {}) "
        "ORDER BY d.person_id, c.deadline, c.id",
        *people,
        week,
        now,
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.pop("person_id"), []).append(row)
    return found


async def send_digests(payload: dict[str, Any]) -> None:
    """Job ``linksaktiv.digest_send``: one digest mail per activist of the chunk, each queued
    with the marks of its items in one transaction (a repeated job sends nothing twice)."""
    week, people = payload["week"], payload["people"]
    runtime = current_runtime()
    now = utcnow()
    recipients = await _recipients(people)
    items = await _items([r["id"] for r in recipients], week, now) if recipients else {}
    recipients = [r for r in recipients if r["id"] in items]
    if not recipients:
        return
    ids = {r["id"]: None for r in recipients}
    stops = await person_tokens(UNSUBSCRIBE_PURPOSE, ids)
    pages = await person_tokens(ME_PURPOSE, ids)
    base = runtime.settings.public_url.rstrip("/")
    for person in recipients:
        stop = f"{base}/p/linksaktiv/digest/unsubscribe/{stops[person['id']]}"
        locale = person["language"] or runtime.settings.locale
        async with db.transaction():
            await runtime.mailer.send(
                to_email=person["email"],
                to_name=f"{person['first_name']} {person['last_name']}".strip(),
                template="mail/linksaktiv_digest",
                locale=locale,
                context={
                    "name": person["first_name"],
                    "calls": items[person["id"]],
                    "me_url": f"{base}/p/linksaktiv/me?t={pages[person['id']]}",
                    "unsubscribe_url": stop,
                    "locale": locale,
                },
                headers={
                    "List-Unsubscribe": f"<{stop}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                dedupe_key=f"linksaktiv.digest:{person['id']}:{week}",
                bulk=True,
                person_id=person["id"],
            )
            await db.execute(
                "UPDATE linksaktiv_digest_item SET mailed_at = {} WHERE person_id = {} "
                "AND week = {} AND mailed_at IS NULL",
                now,
                person["id"],
                week,
            )


async def unsubscribe_person(token: str) -> int | None:
    """The activist a digest's unsubscribe link belongs to, or ``None`` for a broken link
    (or one whose person was erased or changed their address since)."""
    try:
        person_id, _value = await open_person_token(UNSUBSCRIBE_PURPOSE, token)
    except BadToken:
        return None
    return person_id


async def unsubscribe_digest(person_id: int, one_click: bool) -> None:
    """No more digests for the person: the withdrawal of the e-mail consent for the digest's
    purpose, appended to core consent (repeating it changes nothing that counts)."""
    await record_consent(
        person_id,
        ConsentIn(
            channel="email",
            status="withdrawn",
            source="linksaktiv-one-click" if one_click else "linksaktiv-unsubscribe",
            purpose=DIGEST_PURPOSE,
            reference="linksaktiv.digest",
        ),
    )


JOBS = {RUN_JOB: run_digest, SEND_JOB: send_digests}
