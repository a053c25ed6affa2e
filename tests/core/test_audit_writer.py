"""Audit rows are written inside the operation, through core's one writer (issue 24)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import db
from core.context import set_runtime
from plugins.calling import assignments, roster
from plugins.calling.schemas import AssignmentIn, CallerIn
from tests.plugins.calling.conftest import make_campaign, start_now

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "core" / "audit" / "services.py"


def test_no_module_writes_the_audit_log_itself():
    """``INSERT INTO audit_log`` is spelled out once, in core/audit/services.py; the calling
    queue's one-statement reservations embed ``audit_insert_sql``."""
    insert = re.compile(r"INSERT\s+INTO\s+audit_log\b", re.IGNORECASE)
    writers = [
        path.relative_to(ROOT).as_posix()
        for package in ("core", "plugins")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "piccolo_migrations" not in path.parts and insert.search(path.read_text("utf-8"))
    ]
    assert writers == [WRITER.relative_to(ROOT).as_posix()]


async def _rows(action: str) -> list[dict]:
    return await db.fetch(
        "SELECT user_id, token_id, org_id, object_type, object_id, detail FROM audit_log "
        "WHERE action = {} ORDER BY id",
        action,
    )


async def test_a_service_called_outside_a_request_still_audits(app, client, factory):
    """What a command or job does (``orga demo`` creates assignments and rosters this way) is
    audited as a request's would be, with no user."""
    set_runtime(app.state.orga)  # as the worker and the commands do
    campaign = await make_campaign(factory, people_per_district=1, callers=1)
    federal = campaign.federal
    target = {"filters": [{"type": "org", "org_id": federal["id"]}]}
    start = datetime.now(UTC) - timedelta(hours=1)
    data = AssignmentIn(title="Einladen", target=target, start_at=start)
    row = await assignments.create_assignment(federal["id"], federal["path"], data)
    [created] = await _rows("calling.assignment_created")
    assert created == {
        "user_id": None,
        "token_id": None,
        "org_id": federal["id"],
        "object_type": "call_assignment",
        "object_id": row["id"],
        "detail": None,
    }
    caller = campaign.callers[0].id
    await roster.set_caller(federal["id"], row["id"], CallerIn(user_id=caller))
    [added] = await _rows("calling.caller_added")
    assert (added["user_id"], added["org_id"], added["object_id"]) == (None, federal["id"], caller)
    assert db.json_value(added["detail"]) == {"assignment_id": row["id"]}


async def test_through_the_api_the_service_audits_the_acting_user(client, factory):
    campaign = await make_campaign(factory, people_per_district=1, callers=1)
    organizer = campaign.organizer
    body = {
        "title": "Einladen",
        "target": {"filters": [{"type": "org", "org_id": campaign.federal["id"]}]},
        "start_at": start_now(),
    }
    created = await client.post(
        campaign.url() + "/assignments", json=body, headers=organizer.headers
    )
    assert created.status_code == 201, created.text
    assignment_id = created.json()["id"]
    removed = await client.delete(
        campaign.url() + f"/assignments/{assignment_id}", headers=organizer.headers
    )
    assert removed.status_code == 204
    for action in ("calling.assignment_created", "calling.assignment_deleted"):
        [row] = await _rows(action)
        assert (row["user_id"], row["token_id"]) == (organizer.id, organizer.token_id)
        assert (row["org_id"], row["object_id"]) == (campaign.federal["id"], assignment_id)
