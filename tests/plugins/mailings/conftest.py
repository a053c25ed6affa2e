"""Fixtures for the mailings tests: a unit with the module on, people with consent, SMTP."""

from __future__ import annotations

from typing import Any

import pytest

from core import db
from core.jobs.worker import Worker
from core.tables import utcnow


@pytest.fixture
def orga_overrides(smtp_sink):
    """Deliver to the loopback SMTP server."""
    return {"smtp_url": smtp_sink.url, "smtp_pool_size": 8}


async def add_people(org_id: int, count: int, start: int = 0, consent: bool = True) -> list[int]:
    """``count`` people with e-mail addresses (and granted e-mail consent), fast."""
    now = utcnow()
    rows = [
        (
            f"P{n}",
            f"Nachname{n}",
            f"p{n}@example.org",
            org_id,
            "contact",
            False,
            False,
            "{}",
            now,
            now,
        )
        for n in range(start, start + count)
    ]
    await db.bulk_insert(
        "person",
        (
            "first_name",
            "last_name",
            "email",
            "home_org_id",
            "member_status",
            "do_not_contact",
            "has_phone",
            "custom_fields",
            "created_at",
            "updated_at",
        ),
        rows,
    )
    ids = [
        r["id"]
        for r in await db.fetch(
            "SELECT id FROM person WHERE home_org_id = {} AND email LIKE 'p%' ORDER BY id", org_id
        )
    ][-count:]
    if consent:
        await grant(ids)
    return ids


async def grant(person_ids: list[int], status: str = "granted", purpose: str = "general") -> None:
    """Append e-mail consent events."""
    now = utcnow()
    await db.bulk_insert(
        "consent_event",
        ("person_id", "channel", "purpose", "status", "source", "at"),
        [(pid, "email", purpose, status, "test", now) for pid in person_ids],
    )


async def drain(app: Any) -> int:
    """Run every due job."""
    return await Worker(app.state.orga.job_handlers(), concurrency=8).drain()


@pytest.fixture
async def unit(factory):
    """A district with mailings on, an admin (may send) and an organizer (may not send)."""
    org = await factory.org("KV Leipzig", kind="district")
    await factory.enable(org["id"], "mailings")
    admin = await factory.user("admin", org["id"])
    organizer = await factory.user("organizer", org["id"])
    return {
        "org": org,
        "admin": admin,
        "organizer": organizer,
        "base": f"/api/orgs/{org['id']}/mailings",
    }


def draft(org_id: int, **extra: Any) -> dict[str, Any]:
    """A mailing body for the whole unit."""
    return {
        "subject": "Hallo {{ person.first_name }}: Mietendemo am Samstag",
        "sender_name": "Die Linke Leipzig",
        "sender_address": "kv@example.org",
        "reply_to": "fragen@example.org",
        "body": "Liebe:r **{{ person.first_name }}**,\n\nkomm zur Demo in {{ org.name }}!\n",
        "audience": {"filters": [{"type": "org", "org_id": org_id}]},
        "cta_url": "https://example.org/demo",
        "cta_label": "Ich komme",
        **extra,
    }
