"""Reads of lists are audited: one row per page with who, which unit, the filter and the ids
shown, written after the response (issue 21, item 12)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from core import db
from core.audit import services
from core.audit.services import flush_list_reads


async def _stored(action: str) -> list[dict[str, Any]]:
    return await db.fetch("SELECT id FROM audit_log WHERE action = {}", action)


async def _rows(app, action: str) -> list[dict[str, Any]]:
    await flush_list_reads(app)
    rows = await db.fetch(
        "SELECT user_id, token_id, org_id, object_type, object_id, detail FROM audit_log "
        "WHERE action = {} ORDER BY id",
        action,
    )
    for row in rows:
        row["detail"] = db.json_value(row["detail"])
    return rows


async def test_people_list_and_search_pages_are_audited_one_row_per_page(app, client, factory):
    org = await factory.org("KV Leipzig")
    organizer = await factory.user("organizer", org["id"])
    rosa = await factory.person(org["id"], first_name="Rosa", email="rosa.l@example.org")
    karl = await factory.person(org["id"], first_name="Karl", member_status="member")
    clara = await factory.person(org["id"], first_name="Clara", member_status="member")
    url = f"/api/orgs/{org['id']}/people/"
    first = await client.get(url, params={"limit": 2}, headers=organizer.headers)
    assert first.status_code == 200
    cursor = first.json()["next_cursor"]
    second = await client.get(url, params={"limit": 2, "cursor": cursor}, headers=organizer.headers)
    assert [p["id"] for p in second.json()["items"]] == [clara["id"]]
    rows = await _rows(app, "people.listed")
    assert rows == [
        {
            "user_id": organizer.id,
            "token_id": organizer.token_id,
            "org_id": org["id"],
            "object_type": None,
            "object_id": None,
            "detail": {"people": [rosa["id"], karl["id"]]},
        },
        {
            "user_id": organizer.id,
            "token_id": organizer.token_id,
            "org_id": org["id"],
            "object_type": None,
            "object_id": None,
            "detail": {"people": [clara["id"]]},
        },
    ]
    params = {"q": " Rosa.L@example.org", "member_status": "member"}
    empty = await client.get(url, params=params, headers=organizer.headers)
    assert empty.json()["items"] == []
    found = await client.get(url, params={"q": "rosa.l@example.org"}, headers=organizer.headers)
    assert [p["id"] for p in found.json()["items"]] == [rosa["id"]]
    by_status = await client.get(url, params={"member_status": "member"}, headers=organizer.headers)
    assert len(by_status.json()["items"]) == 2
    searched, found_row, status_row = [
        row["detail"] for row in (await _rows(app, "people.listed"))[2:]
    ]
    assert searched["people"] == [] and searched["filter"]["member_status"] == "member"
    assert searched["filter"]["q"]["kind"] == "email"
    # the same search typed differently has the same digest; what was typed is not stored
    assert searched["filter"]["q"] == found_row["filter"]["q"]
    assert found_row == {"people": [rosa["id"]], "filter": found_row["filter"]}
    assert status_row == {
        "people": [karl["id"], clara["id"]],
        "filter": {"member_status": "member"},
    }
    stored = str(await db.fetch("SELECT * FROM audit_log"))
    assert "rosa" not in stored.lower()
    # a refused read writes nothing
    bad = await client.get(url, params={"cursor": "nonsense"}, headers=organizer.headers)
    assert bad.status_code == 400 or bad.status_code == 422
    assert len(await _rows(app, "people.listed")) == 5


async def test_the_row_is_written_after_the_response_has_gone_out(
    app, client, factory, monkeypatch
):
    monkeypatch.setattr(services, "BATCH_SECONDS", 5.0)
    org = await factory.org()
    organizer = await factory.user("organizer", org["id"])
    await factory.person(org["id"])
    at_last_byte: list[int] = []
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        if message["type"] == "http.response.body" and not message.get("more_body"):
            at_last_byte.append(len(await _stored("people.listed")))

    path = f"/api/orgs/{org['id']}/people/"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"limit=10",
        "headers": [
            (b"host", b"testserver.local"),
            (b"authorization", f"Bearer {organizer.token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }
    await app(scope, receive, send)
    assert status == [200]
    assert at_last_byte == [0]  # the answer was complete before the audit row was written
    assert len(await _stored("people.listed")) == 0  # and the request did not wait for it
    assert len(await _rows(app, "people.listed")) == 1


async def test_duplicates_and_segment_previews_are_audited(app, client, factory):
    org = await factory.org()
    admin = await factory.user("admin", org["id"])
    a = await factory.person(org["id"], email="same@example.org", member_status="member")
    b = await factory.person(org["id"], email="same@example.org")
    listed = await client.get(f"/api/orgs/{org['id']}/people/duplicates", headers=admin.headers)
    assert listed.status_code == 200
    [row] = await _rows(app, "people.duplicates_listed")
    assert row["user_id"] == admin.id and row["org_id"] == org["id"]
    assert sorted(row["detail"]["people"]) == sorted([a["id"], b["id"]])
    definition = {"filters": [{"type": "member_status", "statuses": ["member"]}]}
    preview = await client.post(
        f"/api/orgs/{org['id']}/segments/preview", json=definition, headers=admin.headers
    )
    assert preview.status_code == 200, preview.text
    [row] = await _rows(app, "segments.previewed")
    assert row["detail"]["people"] == [a["id"]]
    stored = json.dumps(row["detail"]["filter"]["segment"])  # the definition as a tree
    assert '"type": "member_status"' in stored and '"statuses": ["member"]' in stored


async def test_pages_answered_together_share_one_insert(app, client, factory, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SECONDS", 5.0)
    org = await factory.org()
    organizer = await factory.user("organizer", org["id"])
    for _ in range(4):
        await factory.person(org["id"])
    inserts: list[int] = []
    real_insert = services._insert

    async def counted(rows):
        inserts.append(len(rows))
        await real_insert(rows)

    monkeypatch.setattr(services, "_insert", counted)
    url = f"/api/orgs/{org['id']}/people/"
    one = await client.get(url, params={"limit": 1}, headers=organizer.headers)
    assert one.status_code == 200
    more = await asyncio.gather(
        *[client.get(url, params={"limit": n}, headers=organizer.headers) for n in (2, 3, 4)]
    )
    assert [page.status_code for page in more] == [200] * 3
    assert inserts == []  # nothing written while the pages were answered
    rows = await _rows(app, "people.listed")
    assert inserts == [4]
    assert sorted(len(r["detail"]["people"]) for r in rows) == [1, 2, 3, 4]


async def test_the_audit_log_answers_who_saw_a_person(app, client, factory):
    org = await factory.org()
    admin = await factory.user("admin", org["id"])
    organizer = await factory.user("organizer", org["id"])
    rosa = await factory.person(org["id"], first_name="Rosa")
    karl = await factory.person(org["id"], first_name="Karl", email="karl@example.org")
    url = f"/api/orgs/{org['id']}/people/"
    await client.get(url, params={"limit": 1}, headers=organizer.headers)  # shows Rosa
    await client.get(url, params={"q": "karl@"}, headers=organizer.headers)  # shows Karl
    await client.get(f"{url}{rosa['id']}", headers=organizer.headers)
    await flush_list_reads(app)
    audit = f"/api/orgs/{org['id']}/audit"
    about_rosa = await client.get(audit, params={"person_id": rosa["id"]}, headers=admin.headers)
    assert about_rosa.status_code == 200, about_rosa.text
    seen = sorted((r["action"], r["user_id"]) for r in about_rosa.json()["items"])
    assert seen == [("people.listed", organizer.id), ("person.read", organizer.id)]
    about_karl = await client.get(audit, params={"person_id": karl["id"]}, headers=admin.headers)
    [row] = about_karl.json()["items"]
    assert row["action"] == "people.listed" and row["detail"]["people"] == [karl["id"]]
