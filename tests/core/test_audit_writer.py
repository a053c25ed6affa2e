"""Audit rows are written inside the operation, through core's one writer (issue 24)."""

from __future__ import annotations

import ast
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


ROUTE_NAMES = ("routes.py", "pages.py", "public.py", "console.py")
"""Files that hold route handlers: ``routes.py``, ``*_routes.py``, ``pages.py``, ``*_pages.py``,
``public.py`` and a module's ``console.py``."""
DB_CALLS = {"fetch", "fetch_one", "execute"}
AUDIT_CALLS = {"record", "record_list"}
QUERY_CALLS = {"select", "insert", "update", "delete", "exists", "count", "objects", "raw"}
ALLOWED = {
    # the health checks' own probe: whether the database answers at all, no data behind it
    ("core/health/routes.py", "db.fetch"),
}


def _route_modules() -> list[Path]:
    return [
        path
        for package in ("core", "plugins")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name in ROUTE_NAMES or path.name.endswith(("_routes.py", "_pages.py"))
    ]


def _data_calls(path: Path) -> set[str]:
    """``db.fetch``-style calls, ``record``/``record_list`` calls and Piccolo queries
    (``Table.select(…)``) in one source file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in AUDIT_CALLS:
            found.add(func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner, name = func.value.id, func.attr
            if owner == "db" and name in DB_CALLS:
                found.add(f"db.{name}")
            elif name in AUDIT_CALLS:
                found.add(f"{owner}.{name}")
            elif owner[:1].isupper() and name in QUERY_CALLS:
                found.add(f"{owner}.{name}")
    return found


def test_route_modules_hold_no_sql_and_no_audit_calls():
    """Routes parse, call a service and answer: the SQL and the audit rows (``record``,
    ``record_list``) are in the services, which the JSON routes, the console's pages,
    commands and jobs all call."""
    modules = _route_modules()
    assert ROOT / "core" / "people" / "import_routes.py" in modules
    assert ROOT / "plugins" / "mailings" / "pages.py" in modules
    found = {
        (path.relative_to(ROOT).as_posix(), call) for path in modules for call in _data_calls(path)
    }
    assert found - ALLOWED == set()
    assert ALLOWED <= found, "an allowed call is gone: drop it from ALLOWED"
