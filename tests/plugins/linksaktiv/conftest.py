"""A small party for the linksaktiv tests: federal → Saxony → Leipzig (office) / Dresden."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.jobs.worker import Worker
from core.orgs.postcodes import set_postcodes
from core.orgs.services import update_unit


@dataclass
class Party:
    root: dict[str, Any]
    state: dict[str, Any]
    leipzig: dict[str, Any]
    dresden: dict[str, Any]
    admin: Any


@pytest.fixture
async def party(factory) -> Party:
    root = await factory.org("Bund", kind="federal")
    state = await factory.org("Sachsen", kind="state", parent=root["id"])
    leipzig = await factory.org("KV Leipzig", parent=state["id"])
    dresden = await factory.org("KV Dresden", parent=state["id"])
    await factory.enable(root["id"], "linksaktiv")
    await set_postcodes(state["id"], [("01000", "09999")])
    await set_postcodes(leipzig["id"], [("04103", "04109"), ("04155", "04155")])
    await set_postcodes(dresden["id"], [("01067", "01069")])
    await update_unit(
        leipzig["id"],
        {"office": {"address": "Braustraße 15, 04107 Leipzig", "opening_hours": "Mo-Fr 10-18"}},
    )
    admin = await factory.user("admin", root["id"])
    return Party(root, state, leipzig, dresden, admin)


async def run_jobs(app) -> Any:
    """Run every due job (mail, referral notifications)."""
    return await Worker(app.state.orga.job_handlers()).drain()


def api(org: dict[str, Any], path: str) -> str:
    """The linksaktiv API path of a unit."""
    return f"/api/orgs/{org['id']}/linksaktiv{path}"
