"""Helpers for the events tests: a unit with the module on, an organizer, event bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from core.tables import utcnow


@dataclass
class Setup:
    """A unit with events on, an organizer and the API base of its events."""

    org: dict[str, Any]
    organizer: Any
    base: str


def event_body(**fields: Any) -> dict[str, Any]:
    """A published public info stand two days from now, unless ``fields`` say otherwise."""
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    body = {
        "title": "Infostand Mietendeckel",
        "type": "info_stand",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=3)).isoformat(),
        "description": "Flyer verteilen, Unterschriften sammeln.",
        "location": {"name": "Marktplatz", "address": "Markt 1, 04109 Leipzig"},
        "visibility": "public",
        "state": "published",
    }
    body.update(fields)
    return body


@pytest.fixture
async def setup(factory) -> Setup:
    """KV Leipzig with the events module on and an organizer there."""
    org = await factory.org("KV Leipzig")
    await factory.enable(org["id"], "events")
    organizer = await factory.user("organizer", org["id"])
    return Setup(org, organizer, f"/api/orgs/{org['id']}/events")


async def create(client, setup: Setup, **fields: Any) -> dict[str, Any]:
    """Create an event through the API and return its JSON."""
    response = await client.post(
        setup.base + "/", json=event_body(**fields), headers=setup.organizer.headers
    )
    assert response.status_code == 201, response.text
    return response.json()
