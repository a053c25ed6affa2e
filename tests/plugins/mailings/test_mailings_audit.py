"""The mailings services write their audit rows: the API's and a command's alike (issue 24)."""

from __future__ import annotations

import msgspec

from core import db
from core.context import set_runtime
from plugins.mailings import services
from plugins.mailings.schemas import MailingIn
from tests.plugins.mailings.conftest import add_people, draft

ACTIONS = (
    "mailings.created",
    "mailings.changed",
    "mailings.deleted",
    "mailings.previewed",
    "mailings.tested",
    "mailings.sent",
    "mailings.paused",
    "mailings.resumed",
    "mailings.cancelled",
)


async def _rows() -> list[tuple]:
    marks = ", ".join(["{}"] * len(ACTIONS))
    rows = await db.fetch(
        "SELECT action, user_id, token_id, org_id, object_type, object_id, detail FROM audit_log "
        f"WHERE action IN ({marks}) ORDER BY id",
        *ACTIONS,
    )
    return [tuple(row.values()) for row in rows]


async def test_every_step_through_the_api_is_audited_as_the_user(client, unit):
    admin, base, org_id = unit["admin"], unit["base"], unit["org"]["id"]
    [person] = await add_people(org_id, 1)
    made = await client.post(base + "/", json=draft(org_id), headers=admin.headers)
    assert made.status_code == 201, made.text
    mailing = made.json()["id"]
    url = f"{base}/{mailing}"
    steps = [
        ("PATCH", "", {"subject": "Demo am Samstag"}),
        ("POST", "/preview", {"person_id": person}),
        ("POST", "/test", {"email": "test@example.org"}),
        ("POST", "/send", {"confirm": True}),
        ("POST", "/pause", None),
        ("POST", "/resume", None),
        ("POST", "/cancel", None),
    ]
    for method, path, body in steps:
        answer = await client.request(method, url + path, json=body, headers=admin.headers)
        assert answer.status_code < 300, (path, answer.text)
    other = await client.post(base + "/", json=draft(org_id), headers=admin.headers)
    gone = await client.delete(f"{base}/{other.json()['id']}", headers=admin.headers)
    assert gone.status_code == 204
    who = (admin.id, admin.token_id, org_id)
    on_mailing = ("mailing", mailing, None)
    assert await _rows() == [
        ("mailings.created", *who, *on_mailing),
        ("mailings.changed", *who, *on_mailing),
        ("mailings.previewed", *who, "person", person, None),
        ("mailings.tested", *who, *on_mailing),
        ("mailings.sent", *who, *on_mailing),
        ("mailings.paused", *who, *on_mailing),
        ("mailings.resumed", *who, *on_mailing),
        ("mailings.cancelled", *who, *on_mailing),
        ("mailings.created", *who, "mailing", other.json()["id"], None),
        ("mailings.deleted", *who, "mailing", other.json()["id"], None),
    ]


async def test_a_mailing_drafted_by_a_command_is_audited_without_a_user(app, client, unit):
    set_runtime(app.state.orga)  # as the commands and the worker do
    org = unit["org"]
    data = msgspec.convert(draft(org["id"]), MailingIn)
    row = await services.create_mailing(org["id"], org["path"], data)
    assert await _rows() == [
        ("mailings.created", None, None, org["id"], "mailing", row["id"], None)
    ]
