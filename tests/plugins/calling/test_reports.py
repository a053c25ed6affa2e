"""Reporting calls: answers, tags, consent, wrong numbers, follow-ups and what managers see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import db
from plugins.calling.tables import CallAssignment, Caller
from tests.plugins.calling.conftest import (
    expire_reservations,
    next_call,
    open_assignment,
    report,
)


async def _live_call_ids(caller) -> list[int]:
    """Ids of the caller's reservations that are still live."""
    rows = await db.fetch(
        "SELECT id FROM calling_call WHERE caller_id = {} AND state = 'reserved' ORDER BY id",
        caller.id,
    )
    return [row["id"] for row in rows]


async def _state_and_outcome(call_id: int) -> tuple[str, str | None]:
    call = await db.fetch_one("SELECT state, outcome FROM calling_call WHERE id = {}", call_id)
    return call["state"], call["outcome"]


async def _save_and_next(client, campaign, assignment_id: int, caller, call_id: int, outcome: str):
    """``next`` with ``previous``: report ``call_id`` and reserve the next person."""
    url = campaign.url(campaign.district_a) + f"/assignments/{assignment_id}/next"
    body = {"previous": {"call_id": call_id, "report": {"outcome": outcome}}}
    return await client.post(url, json=body, headers=caller.headers)


async def test_report_stores_answers_tags_and_follow_ups(client, factory, campaign):
    assignment = await open_assignment(client, campaign, show_earlier_notes=True)
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    wrong = await report(
        client, campaign, call["call_id"], caller, answers={"topics": ["Miete", "Golf"]}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "answers.topics"
    unknown = await report(client, campaign, call["call_id"], caller, answers={"x": "y"})
    assert unknown.status_code == 422
    ok = await report(
        client,
        campaign,
        call["call_id"],
        caller,
        notes="Will zum Treffen kommen",
        answers={"topics": ["Miete", "Pflege"], "comment": "Danke!"},
        add_tags=["will-aktiv-werden"],
        wants_local_contact=True,
        organizer_action="Bitte Flyer schicken",
    )
    assert ok.status_code == 204, ok.text
    person_id = call["person"]["id"]
    answers = await db.fetch(
        "SELECT question, value FROM calling_answer WHERE person_id = {} ORDER BY id", person_id
    )
    assert [(a["question"], a["value"]) for a in answers] == [
        ("topics", "Miete"),
        ("topics", "Pflege"),
        ("comment", "Danke!"),
    ]
    tags = await db.fetch(
        "SELECT t.name FROM person_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.person_id = {}",
        person_id,
    )
    assert [t["name"] for t in tags] == ["will-aktiv-werden"]
    # the follow-ups belong to the person's home unit: district A's organizer sees them,
    # district B's does not
    home = campaign.district_a if call["person"]["home_unit"] == "Kreis A" else campaign.district_b
    away = campaign.district_b if home is campaign.district_a else campaign.district_a
    organizer_home = await factory.user("organizer", home["id"])
    organizer_away = await factory.user("organizer", away["id"])
    seen = await client.get(
        f"/api/orgs/{home['id']}/calling/followups", headers=organizer_home.headers
    )
    assert sorted(f["kind"] for f in seen.json()["items"]) == ["local_contact", "organizer_action"]
    hidden = await client.get(
        f"/api/orgs/{away['id']}/calling/followups", headers=organizer_away.headers
    )
    assert hidden.json()["items"] == []
    followup = seen.json()["items"][0]
    done = await client.patch(
        f"/api/orgs/{home['id']}/calling/followups/{followup['id']}",
        json={"status": "done"},
        headers=organizer_home.headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    foreign = await client.patch(
        f"/api/orgs/{away['id']}/calling/followups/{followup['id']}",
        json={"status": "done"},
        headers=organizer_away.headers,
    )
    assert foreign.status_code == 404


async def test_do_not_call_goes_through_core_consent(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    await report(client, campaign, call["call_id"], caller, outcome="do_not_call")
    consent = await db.fetch(
        "SELECT channel, status, source FROM consent_event WHERE person_id = {}",
        call["person"]["id"],
    )
    assert consent == [{"channel": "phone", "status": "withdrawn", "source": "call"}]
    second = await open_assignment(client, campaign, title="Zweite Runde")
    handed = []
    while c := await next_call(client, campaign, second["id"], caller):
        handed.append(c["person"]["id"])
        await report(client, campaign, c["call_id"], caller)
    assert call["person"]["id"] not in handed and len(handed) == 5


async def test_wrong_number_flags_the_number(client, campaign):
    assignment = await open_assignment(client, campaign, cooldown_hours=0)
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    missing = await report(client, campaign, call["call_id"], caller, outcome="wrong_number")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "phone"
    phone = call["person"]["phones"][0]
    ok = await report(
        client, campaign, call["call_id"], caller, outcome="wrong_number", phone=phone
    )
    assert ok.status_code == 204
    row = await db.fetch_one(
        "SELECT p.has_phone, ph.valid FROM person p JOIN person_phone ph ON ph.person_id = p.id "
        "WHERE p.id = {}",
        call["person"]["id"],
    )
    assert not row["has_phone"] and not row["valid"]
    handed = []
    while c := await next_call(client, campaign, assignment["id"], caller):
        handed.append(c["person"]["id"])
        await report(client, campaign, c["call_id"], caller)
    assert call["person"]["id"] not in handed


async def test_earlier_notes_only_when_the_assignment_allows(client, campaign):
    shown = await open_assignment(client, campaign, show_earlier_notes=True, cooldown_hours=0)
    caller = campaign.callers[0]
    first = await next_call(client, campaign, shown["id"], caller)
    await report(client, campaign, first["call_id"], caller, outcome="busy", notes="Besetzt")
    for _ in range(len(campaign.people)):
        again = await next_call(client, campaign, shown["id"], caller)
        if again["person"]["id"] == first["person"]["id"]:
            break
        await report(client, campaign, again["call_id"], caller)
    assert again["person"]["earlier_calls"][0]["notes"] == "Besetzt"


async def test_stats_per_caller_day_and_child_unit(client, campaign):
    assignment = await open_assignment(client, campaign)
    a, b = campaign.callers
    for caller, outcome in ((a, "reached"), (b, "no_answer"), (a, "reached")):
        call = await next_call(client, campaign, assignment["id"], caller)
        await report(client, campaign, call["call_id"], caller, outcome=outcome)
    stats = (
        await client.get(
            campaign.url() + f"/assignments/{assignment['id']}/stats",
            headers=campaign.organizer.headers,
        )
    ).json()
    assert stats["calls"] == 3 and stats["reached"] == 2 and stats["remaining"] == 4
    assert {r["key"]: r["calls"] for r in stats["per_caller"]} == {str(a.id): 2, str(b.id): 1}
    assert len(stats["per_day"]) == 1 and stats["per_day"][0]["calls"] == 3
    # the federal assignment shows its state and the state's districts
    units = {u["label"]: (u["targets"], u["parent"]) for u in stats["per_unit"]}
    state = str(campaign.state["id"])
    assert units == {
        "Land": (6, str(campaign.federal["id"])),
        "Kreis A": (3, state),
        "Kreis B": (3, state),
    }
    done = sum(u["done"] for u in stats["per_unit"] if u["parent"] == state)
    assert done == 2
    state_view = await client.get(
        f"/api/orgs/{campaign.state['id']}/calling/assignments/{assignment['id']}/stats",
        headers=campaign.organizer.headers,
    )
    assert state_view.status_code == 404  # managed at the unit that owns it


async def test_me_calling_lists_assignments_with_open_calls(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    mine = (await client.get("/api/me/calling", headers=caller.headers)).json()
    assert mine["next_cursor"] is None
    assert mine["items"] == [
        {
            "id": assignment["id"],
            "org_id": campaign.district_a["id"],
            "org_name": "Bund",
            "title": "100.000 Anrufe",
            "state": "open",
            "open_calls": [{"call_id": call["call_id"], "reserved_until": call["reserved_until"]}],
        }
    ]


async def test_module_off_for_one_unit_keeps_working_for_another(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    from core.orgs.services import set_module

    await set_module(campaign.district_a["id"], "calling", False)
    off = await client.post(
        campaign.url(campaign.district_a) + f"/assignments/{assignment['id']}/next",
        headers=campaign.callers[0].headers,
    )
    assert off.status_code == 404 and off.json()["type"].endswith("module-disabled")
    caller_b = await factory.user("caller", campaign.district_b["id"])
    await client.post(
        campaign.url() + f"/assignments/{assignment['id']}/callers",
        json={"user_id": caller_b.id},
        headers=campaign.organizer.headers,
    )
    on = await client.post(
        campaign.url(campaign.district_b) + f"/assignments/{assignment['id']}/next",
        headers=caller_b.headers,
    )
    assert on.status_code == 200
    mine = await client.get("/api/me/calling", headers=campaign.callers[0].headers)
    assert mine.json() == {"items": [], "next_cursor": None}


async def test_save_and_next_reports_then_reserves(client, campaign):
    """``next`` with ``previous`` reports the call just made and hands out the next person
    in the same request; the report is stored exactly as ``…/report`` stores it."""
    assignment = await open_assignment(client, campaign, survey=[])
    caller = campaign.callers[0]
    first = await next_call(client, campaign, assignment["id"], caller)
    response = await _save_and_next(
        client, campaign, assignment["id"], caller, first["call_id"], "busy"
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["person"]["id"] != first["person"]["id"]
    assert await _state_and_outcome(first["call_id"]) == ("reported", "busy")
    audit = await db.fetch(
        "SELECT action FROM audit_log WHERE action = 'calling.reported' AND object_id = {}",
        first["person"]["id"],
    )
    assert len(audit) == 1


async def test_save_and_next_refused_report_reserves_nothing(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    first = await next_call(client, campaign, assignment["id"], caller)
    url = campaign.url(campaign.district_a) + f"/assignments/{assignment['id']}/next"
    body = {
        "previous": {
            "call_id": first["call_id"],
            "report": {"outcome": "reached", "answers": {"topics": ["Krieg"]}},
        }
    }
    response = await client.post(url, json=body, headers=caller.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "previous.report.answers.topics"
    assert await _live_call_ids(caller) == [first["call_id"]]


async def test_next_without_body_still_works_with_empty_json(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    url = campaign.url(campaign.district_a) + f"/assignments/{assignment['id']}/next"
    response = await client.post(url, json={}, headers=caller.headers)
    assert response.status_code == 200, response.text


async def test_save_and_next_after_the_reservation_ran_out(client, campaign):
    """A call reported with ``next`` after its reservation ran out (nobody took the person
    over) is stored, and the person, though first in the queue, waits for the cooldown."""
    assignment = await open_assignment(client, campaign, survey=[])
    caller = campaign.callers[0]
    first = await next_call(client, campaign, assignment["id"], caller)
    await expire_reservations()
    early = datetime(2000, 1, 1, tzinfo=UTC)
    await db.execute(
        "UPDATE calling_target SET available_at = {} WHERE current_call_id = {}",
        early,
        first["call_id"],
    )
    response = await _save_and_next(
        client, campaign, assignment["id"], caller, first["call_id"], "no_answer"
    )
    assert response.status_code == 200, response.text
    assert response.json()["person"]["id"] != first["person"]["id"]
    target = await db.fetch_one(
        "SELECT state, attempts, available_at, current_call_id FROM calling_target "
        "WHERE assignment_id = {} AND person_id = {}",
        assignment["id"],
        first["person"]["id"],
    )
    assert (target["state"], target["attempts"], target["current_call_id"]) == ("open", 1, None)
    available_at = target["available_at"]
    if isinstance(available_at, str):  # SQLite stores timestamps as text
        available_at = datetime.fromisoformat(available_at)
    assert available_at > datetime.now(UTC) + timedelta(hours=23)


async def test_save_and_next_with_a_call_reported_before_reserves_nothing(client, campaign):
    """A plain report of a call that is no longer reserved is refused with 409; the caller
    keeps their live reservation and nothing is reported twice."""
    assignment = await open_assignment(client, campaign, survey=[])
    caller = campaign.callers[0]
    first = await next_call(client, campaign, assignment["id"], caller)
    assert (await report(client, campaign, first["call_id"], caller)).status_code == 204
    second = await next_call(client, campaign, assignment["id"], caller)
    response = await _save_and_next(
        client, campaign, assignment["id"], caller, first["call_id"], "busy"
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _live_call_ids(caller) == [second["call_id"]]
    call = await db.fetch_one("SELECT outcome FROM calling_call WHERE id = {}", first["call_id"])
    assert call["outcome"] == "reached"
    audit = await db.fetch(
        "SELECT id FROM audit_log WHERE action = 'calling.reported' AND object_id = {}",
        first["person"]["id"],
    )
    assert len(audit) == 1


async def test_save_and_next_reports_a_call_of_another_assignment(client, campaign):
    """``previous`` may name the caller's live call in another assignment: it is reported
    and the next person of this assignment is reserved."""
    first_assignment = await open_assignment(client, campaign, survey=[])
    second_assignment = await open_assignment(client, campaign, survey=[], title="Runde 2")
    caller = campaign.callers[0]
    first = await next_call(client, campaign, first_assignment["id"], caller)
    response = await _save_and_next(
        client, campaign, second_assignment["id"], caller, first["call_id"], "busy"
    )
    assert response.status_code == 200, response.text
    assert await _state_and_outcome(first["call_id"]) == ("reported", "busy")
    assert await _live_call_ids(caller) == [response.json()["call_id"]]


async def test_me_calling_pages_newest_first_and_skips_what_you_cannot_call(
    client, factory, campaign
):
    """Keyset pages of the assignments you are on; one of a unit you cannot call for is left
    out without making a page short of its limit."""

    caller = campaign.callers[0]
    made = [(await open_assignment(client, campaign, title=t))["id"] for t in "ABCDE"]
    elsewhere = await factory.org("Kreis C", parent=campaign.state["id"])
    rows = await CallAssignment.insert(CallAssignment(org=elsewhere["id"], title="C")).run()
    await Caller.insert(Caller(assignment=rows[0]["id"], user_id=caller.id)).run()
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/me/calling", params=params, headers=caller.headers)).json()
        assert len(page["items"]) == 2 or page["next_cursor"] is None
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)


async def test_remaining_leaves_out_people_who_already_meet_the_goal(client, campaign):
    """Two people meet the goal before anyone called them: they are done, not remaining,
    although the queue still holds their rows as open (issue #25 item 8)."""
    from core.people.tags import set_tags

    for person in campaign.people[:2]:
        await set_tags(person["id"], campaign.federal["id"], campaign.federal["path"], ["aktiv"])
    assignment = await open_assignment(
        client, campaign, goal={"filters": [{"type": "tags", "tags": ["aktiv"]}]}
    )
    url = campaign.url() + f"/assignments/{assignment['id']}/stats"
    stats = (await client.get(url, headers=campaign.organizer.headers)).json()
    assert stats["targets"] == 6 and stats["goal_matches"] == 2
    assert stats["remaining"] == 4 and stats["done"] == 2 and stats["ready"] == 4
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    stats = (await client.get(url, headers=campaign.organizer.headers)).json()
    assert stats["remaining"] == 4 and stats["ready"] == 3 and stats["blocked"]["reserved"] == 1
    await report(client, campaign, call["call_id"], caller, outcome="no_answer")
    stats = (await client.get(url, headers=campaign.organizer.headers)).json()
    assert stats["remaining"] == 4 and stats["blocked"]["cooldown"] == 1
    assert stats["outcomes"] == {"no_answer": 1} and stats["calls"] == 1
