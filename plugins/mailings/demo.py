"""Demo content of the mailings module: the federal unit's sender, a mailing draft and a
mailing sent yesterday with its recipients (for the statistics page)."""

from __future__ import annotations

from datetime import timedelta

from core.api import Demo, db, utcnow
from plugins.mailings.schemas import MailingIn, SenderIn
from plugins.mailings.services import create_mailing, put_sender

__all__ = ["demo_content"]

_BODY = """{{ person.salutation }},

am Samstag in zwei Wochen ist unsere **Mitgliederversammlung**. Wir wählen den neuen
Vorstand und beschließen, wofür wir im nächsten Jahr gemeinsam kämpfen:

- bezahlbare Mieten in jeder Stadt,
- gute Pflege für alle,
- ein Nahverkehr, der auch aufs Land fährt.

Komm vorbei, sag es weiter und bring Fragen mit!

Solidarische Grüße
dein Bundesverband
"""
_THANKS = """{{ person.salutation }},

danke an alle, die am Samstag am **Infostand** waren! Über 300 Gespräche, 40 neue Kontakte.

Nächster Termin: in zwei Wochen, gleiche Stelle.
"""
_AUDIENCE = {
    "filters": [{"type": "consent", "channel": "email"}, {"type": "has_email", "op": "and"}]
}


async def demo_content(demo: Demo) -> list[str]:
    """The federal unit's sender identity and a draft to everyone who agreed to e-mail."""
    federal = demo.federal
    await put_sender(
        federal["id"], SenderIn(name="Bundesverband (Demo)", address="post@example.org")
    )
    subject = "Einladung zur Mitgliederversammlung"
    await create_mailing(
        federal["id"],
        federal["path"],
        MailingIn(
            subject=subject,
            body=_BODY,
            audience=_AUDIENCE,
            cta_url="https://example.org/mitgliederversammlung",
            cta_label="Jetzt anmelden",
        ),
    )
    sent = await _sent_mailing(federal)
    return [
        f"mailings: draft '{subject}' to everyone who agreed to e-mail",
        f"mailings: '{sent}' sent yesterday, with statistics",
    ]


async def _sent_mailing(federal: dict) -> str:
    """A mailing sent yesterday to up to 120 people: most delivered over a few hours, a few
    bounced, two unsubscribed."""
    subject = "Danke für den Infostand!"
    row = await create_mailing(
        federal["id"],
        federal["path"],
        MailingIn(subject=subject, body=_THANKS, audience=_AUDIENCE),
    )
    people = await db.fetch(
        "SELECT id, email FROM person WHERE email IS NOT NULL ORDER BY id LIMIT 120"
    )
    started = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    rows = []
    for n, person in enumerate(people):
        at = started + timedelta(minutes=n * 3)
        state = "bounced" if n % 29 == 7 else "sent"
        unsubscribed = at + timedelta(hours=2) if n in (11, 58) else None
        rows.append((row["id"], person["id"], person["email"], state, at, unsubscribed, at, at))
    if rows:
        await db.bulk_insert(
            "mailings_recipient",
            (
                "mailing_id",
                "person_id",
                "email",
                "state",
                "sent_at",
                "unsubscribed_at",
                "created_at",
                "updated_at",
            ),
            rows,
        )
    await db.execute(
        "UPDATE mailings_mailing SET state = 'sent', total = {}, started_at = {}, "
        "finished_at = {}, send_key = 'demo' WHERE id = {}",
        len(rows),
        started,
        started + timedelta(minutes=3 * len(rows)),
        row["id"],
    )
    return subject
