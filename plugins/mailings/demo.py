"""Demo content of the mailings module: the federal unit's sender and a mailing draft."""

from __future__ import annotations

from core.api import Demo
from plugins.mailings.schemas import MailingIn, SenderIn
from plugins.mailings.services import create_mailing, put_sender

__all__ = ["demo_content"]

_BODY = """Hallo {{ person.first_name }},

am Samstag in zwei Wochen ist unsere **Mitgliederversammlung**. Wir wählen den neuen
Vorstand und beschließen, wofür wir im nächsten Jahr gemeinsam kämpfen:

- bezahlbare Mieten in jeder Stadt,
- gute Pflege für alle,
- ein Nahverkehr, der auch aufs Land fährt.

Komm vorbei, sag es weiter und bring Fragen mit!

Solidarische Grüße
dein Bundesverband
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
    return [f"mailings: draft '{subject}' to everyone who agreed to e-mail"]
