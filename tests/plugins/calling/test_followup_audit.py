"""A page of follow-ups is audited with the ids shown and its filter (issue 21, item 12)."""

from __future__ import annotations

from core import db
from core.audit.services import flush_list_reads
from plugins.calling.tables import FollowUp


async def test_followup_pages_are_audited(app, client, factory):
    org = await factory.org()
    await factory.enable(org["id"], "calling")
    organizer = await factory.user("organizer", org["id"])
    person = await factory.person(org["id"])
    await FollowUp.insert(FollowUp(person=person["id"], kind="local_contact")).run()
    listed = await client.get(f"/api/orgs/{org['id']}/calling/followups", headers=organizer.headers)
    assert [f["person_id"] for f in listed.json()["items"]] == [person["id"]]
    await flush_list_reads(app)
    [row] = await db.fetch(
        "SELECT user_id, org_id, detail FROM audit_log WHERE action = 'calling.followups_listed'"
    )
    assert (row["user_id"], row["org_id"]) == (organizer.id, org["id"])
    assert db.json_value(row["detail"]) == {"people": [person["id"]], "filter": {"status": "open"}}
