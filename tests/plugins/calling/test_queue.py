"""The call queue over HTTP: what a caller gets, and who is never handed out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import db
from tests.plugins.calling.conftest import (
    expire_reservations,
    next_call,
    open_assignment,
    report,
)


async def test_next_hands_out_a_minimal_call_card_and_audits_it(client, campaign):
    assignment = await open_assignment(client, campaign)
    assert assignment["targets"] == 6 and assignment["state"] == "open"
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    person = call["person"]
    assert set(person) == {
        "id",
        "first_name",
        "last_name",
        "phones",
        "home_unit",
        "tags",
        "earlier_calls",
        "member_status",  # the age of membership on the call screen (issue #25)
        "in_records_since",
    }
    assert person["phones"] and person["home_unit"] in {"Kreis A", "Kreis B"}
    assert person["earlier_calls"] is None  # the assignment does not show earlier notes
    assert [q["key"] for q in call["survey"]] == ["topics", "comment"]
    audit = await db.fetch(
        "SELECT user_id, object_id FROM audit_log WHERE action = 'calling.reserved'"
    )
    assert audit == [{"user_id": caller.id, "object_id": person["id"]}]
    card = await client.get(
        campaign.url(campaign.district_a) + f"/calls/{call['call_id']}", headers=caller.headers
    )
    assert card.status_code == 200 and card.json()["person"]["id"] == person["id"]
    other = await client.get(
        campaign.url(campaign.district_a) + f"/calls/{call['call_id']}",
        headers=campaign.callers[1].headers,
    )
    assert other.status_code == 404


async def test_every_target_once_then_204(client, campaign):
    assignment = await open_assignment(client, campaign)
    seen = []
    while call := await next_call(client, campaign, assignment["id"], campaign.callers[0]):
        seen.append(call["person"]["id"])
        assert (
            await report(client, campaign, call["call_id"], campaign.callers[0])
        ).status_code == 204
    assert sorted(seen) == sorted(p["id"] for p in campaign.people)


async def test_two_callers_never_get_the_same_person(client, campaign):
    assignment = await open_assignment(client, campaign)
    a = await next_call(client, campaign, assignment["id"], campaign.callers[0])
    b = await next_call(client, campaign, assignment["id"], campaign.callers[1])
    assert a["person"]["id"] != b["person"]["id"]


async def test_blocked_people_are_skipped(client, factory, campaign):
    people = campaign.people
    no_phone = await factory.person(campaign.district_a["id"], first_name="NoPhone")
    await db.execute("UPDATE person SET do_not_contact = {} WHERE id = {}", True, people[0]["id"])
    await db.execute(
        "INSERT INTO consent_event (person_id, channel, purpose, status, source, at) "
        "VALUES ({}, 'phone', 'general', 'withdrawn', 'test', {})",
        people[1]["id"],
        datetime.now(UTC),
    )
    assignment = await open_assignment(client, campaign)
    handed = []
    while call := await next_call(client, campaign, assignment["id"], campaign.callers[0]):
        handed.append(call["person"]["id"])
        await report(client, campaign, call["call_id"], campaign.callers[0])
    assert no_phone["id"] not in handed
    assert people[0]["id"] not in handed and people[1]["id"] not in handed
    assert len(handed) == len(people) - 2
    stats = (
        await client.get(
            campaign.url() + f"/assignments/{assignment['id']}/stats",
            headers=campaign.organizer.headers,
        )
    ).json()
    assert stats["targets"] == 7 and stats["reached"] == 4 and stats["goal_matches"] == 4
    assert stats["blocked"]["no_number"] == 1 and stats["blocked"]["do_not_call"] == 2


async def test_cooldown_and_call_back(client, campaign):
    assignment = await open_assignment(client, campaign, cooldown_hours=2)
    caller = campaign.callers[0]
    first = await next_call(client, campaign, assignment["id"], caller)
    await report(client, campaign, first["call_id"], caller, outcome="no_answer")
    second = await next_call(client, campaign, assignment["id"], caller)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    bad = await report(client, campaign, second["call_id"], caller, outcome="call_back")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "call_back_after"
    await report(
        client, campaign, second["call_id"], caller, outcome="call_back", call_back_after=later
    )
    handed = []
    while call := await next_call(client, campaign, assignment["id"], caller):
        handed.append(call["person"]["id"])
        await report(client, campaign, call["call_id"], caller)
    assert first["person"]["id"] not in handed and second["person"]["id"] not in handed
    assert len(handed) == 4
    # after the cooldown the no-answer person comes back, the call-back one not yet
    await db.execute(
        "UPDATE calling_target SET available_at = {} WHERE person_id = {}",
        datetime.now(UTC) - timedelta(seconds=1),
        first["person"]["id"],
    )
    again = await next_call(client, campaign, assignment["id"], caller)
    assert again["person"]["id"] == first["person"]["id"]
    stats = (
        await client.get(
            campaign.url() + f"/assignments/{assignment['id']}/stats",
            headers=campaign.organizer.headers,
        )
    ).json()
    assert stats["blocked"]["call_back"] == 1 and stats["blocked"]["reserved"] == 1


async def test_goal_segment_people_are_never_handed_out(client, factory, campaign):
    from core.people.tags import set_tags

    done = campaign.people[2]
    await set_tags(done["id"], campaign.federal["id"], campaign.federal["path"], ["aktiv"])
    assignment = await open_assignment(
        client, campaign, goal={"filters": [{"type": "tags", "tags": ["aktiv"]}]}
    )
    handed = []
    while call := await next_call(client, campaign, assignment["id"], campaign.callers[0]):
        handed.append(call["person"]["id"])
        await report(client, campaign, call["call_id"], campaign.callers[0], outcome="busy")
    assert done["id"] not in handed and len(handed) == 5


async def test_person_locked_by_another_assignment_is_skipped(client, campaign):
    first = await open_assignment(client, campaign, title="Erste")
    second = await open_assignment(client, campaign, title="Zweite")
    caller_a, caller_b = campaign.callers
    held = await next_call(client, campaign, first["id"], caller_a)
    handed = []
    while call := await next_call(client, campaign, second["id"], caller_b):
        handed.append(call["person"]["id"])
        await report(client, campaign, call["call_id"], caller_b)
    assert held["person"]["id"] not in handed and len(handed) == 5


async def test_release_expiry_and_lost_reservation(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller_a, caller_b = campaign.callers
    call = await next_call(client, campaign, assignment["id"], caller_a)
    skip = await client.delete(
        campaign.url(campaign.district_a) + f"/calls/{call['call_id']}", headers=caller_a.headers
    )
    assert skip.status_code == 204
    gone = await report(client, campaign, call["call_id"], caller_a)
    assert gone.status_code == 409
    call = await next_call(client, campaign, assignment["id"], caller_a)
    await expire_reservations()
    # after expiry the person goes to another caller and the first report is refused
    taken = None
    while other := await next_call(client, campaign, assignment["id"], caller_b):
        if other["person"]["id"] == call["person"]["id"]:
            taken = other
            break
        await report(client, campaign, other["call_id"], caller_b)
    assert taken is not None
    lost = await report(client, campaign, call["call_id"], caller_a)
    assert lost.status_code == 409 and lost.json()["type"].endswith("reservation-lost")


async def test_prioritized_and_excluded_tags(client, campaign):
    from core.people.tags import set_tags

    vip, skip = campaign.people[5], campaign.people[4]
    await set_tags(vip["id"], campaign.federal["id"], campaign.federal["path"], ["vip"])
    await set_tags(skip["id"], campaign.federal["id"], campaign.federal["path"], ["nein"])
    assignment = await open_assignment(client, campaign)
    await client.post(
        campaign.url() + f"/assignments/{assignment['id']}/callers",
        json={
            "user_id": campaign.callers[0].id,
            "prioritized_tags": ["vip"],
            "excluded_tags": ["nein"],
        },
        headers=campaign.organizer.headers,
    )
    handed = []
    while call := await next_call(client, campaign, assignment["id"], campaign.callers[0]):
        handed.append(call["person"]["id"])
        await report(client, campaign, call["call_id"], campaign.callers[0])
    assert handed[0] == vip["id"] and skip["id"] not in handed and len(handed) == 5
    other = await next_call(client, campaign, assignment["id"], campaign.callers[1])
    assert other["person"]["id"] == skip["id"]


async def test_call_back_one_person(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller_a, caller_b = campaign.callers
    call = await next_call(client, campaign, assignment["id"], caller_a)
    await report(client, campaign, call["call_id"], caller_a, outcome="no_answer")
    url = campaign.url(campaign.district_a) + f"/assignments/{assignment['id']}/callback"
    person_id = call["person"]["id"]
    again = await client.post(url, json={"person_id": person_id}, headers=caller_a.headers)
    assert again.status_code == 200 and again.json()["person"]["id"] == person_id
    stranger = await client.post(url, json={"person_id": person_id}, headers=caller_b.headers)
    assert stranger.status_code == 404


async def test_not_on_roster_and_not_open(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    outsider = await factory.user("caller", campaign.district_b["id"])
    response = await client.post(
        campaign.url(campaign.district_b) + f"/assignments/{assignment['id']}/next",
        headers=outsider.headers,
    )
    assert response.status_code == 403 and response.json()["type"].endswith("not-on-roster")
    draft = await open_assignment(client, campaign, start_at=None)
    response = await client.post(
        campaign.url(campaign.district_a) + f"/assignments/{draft['id']}/next",
        headers=campaign.callers[0].headers,
    )
    assert response.status_code == 409
