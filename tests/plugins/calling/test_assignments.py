"""Assignment CRUD, validation, object-level authorization, segment filters and GDPR hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import db
from tests.etags import two_organizers
from tests.plugins.calling.conftest import next_call, open_assignment, report


async def test_crud_and_queue_refresh(client, factory, campaign):
    url = campaign.url() + "/assignments"
    headers = campaign.organizer.headers
    assignment = await open_assignment(client, campaign)
    listed = (await client.get(url, headers=headers)).json()["items"]
    assert [a["id"] for a in listed] == [assignment["id"]]
    narrowed = await client.patch(
        f"{url}/{assignment['id']}",
        json={"target": {"filters": [{"type": "org", "org_id": campaign.district_b["id"]}]}},
        headers=headers,
    )
    assert narrowed.status_code == 200 and narrowed.json()["targets"] == 3
    await factory.person(campaign.district_b["id"], phones=["+49301111111"])
    refreshed = await client.post(f"{url}/{assignment['id']}/refresh", headers=headers)
    assert refreshed.json() == {"added": 1, "targets": 4}
    closed = await client.patch(
        f"{url}/{assignment['id']}", json={"end_at": "2000-01-01T00:00:00Z"}, headers=headers
    )
    assert closed.status_code == 422 and closed.json()["errors"][0]["field"] == "end_at"
    gone = await client.delete(f"{url}/{assignment['id']}", headers=headers)
    assert gone.status_code == 204
    assert (await client.get(f"{url}/{assignment['id']}", headers=headers)).status_code == 404


async def test_bad_input_names_the_field(client, campaign):
    url = campaign.url() + "/assignments"
    headers = campaign.organizer.headers
    cases = [
        ({"title": "x", "target": {"filters": [{"type": "nope"}]}}, "target.filters[0]"),
        ({"title": "x", "target": {"filters": []}}, "target.filters"),
        ({"title": "", "target": {"filters": [{"type": "has_phone"}]}}, "title"),
        (
            {
                "title": "x",
                "target": {"filters": [{"type": "has_phone"}]},
                "survey": [{"key": "a", "text": "?", "kind": "choice"}],
            },
            "survey[0].options",
        ),
    ]
    for body, field in cases:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"].startswith(field), response.json()


async def test_target_may_include_a_saved_segment_while_it_exists(client, campaign):
    headers = campaign.organizer.headers
    segments = campaign.url().replace("/calling", "/segments/")
    saved = await client.post(
        segments,
        json={
            "name": "Kreis B",
            "definition": {"where": {"type": "org", "org_id": campaign.district_b["id"]}},
        },
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    target = {"where": {"type": "in_segment", "segment_id": saved.json()["id"]}}
    assignment = await open_assignment(client, campaign, target=target)
    assert assignment["targets"] == 3
    missing = {"where": {"type": "in_segment", "segment_id": saved.json()["id"] + 1}}
    url = campaign.url() + "/assignments"
    response = await client.post(url, json={"title": "x", "target": missing}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "target.where.segment_id"
    assert (
        await client.delete(f"{segments}{saved.json()['id']}", headers=headers)
    ).status_code == 204
    refreshed = await client.post(f"{url}/{assignment['id']}/refresh", headers=headers)
    assert refreshed.status_code == 422
    assert refreshed.json()["errors"][0]["field"] == "target.where.segment_id"


async def test_other_units_assignments_are_404(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    other_root = await factory.org("Andere Partei", kind="federal")
    await factory.enable(other_root["id"], "calling")
    stranger = await factory.user("admin", other_root["id"])
    for method, path in [
        ("GET", f"/assignments/{assignment['id']}"),
        ("PATCH", f"/assignments/{assignment['id']}"),
        ("GET", f"/assignments/{assignment['id']}/stats"),
        ("POST", f"/assignments/{assignment['id']}/next"),
        ("GET", "/calls/1"),
    ]:
        response = await client.request(
            method,
            f"/api/orgs/{other_root['id']}/calling{path}",
            json={} if method != "GET" else None,
            headers=stranger.headers,
        )
        assert response.status_code in (403, 404), (path, response.status_code)
        assert response.status_code == 404 or path.endswith("/next")
    # a caller may not manage
    response = await client.get(
        campaign.url(campaign.district_a) + f"/assignments/{assignment['id']}/stats",
        headers=campaign.callers[0].headers,
    )
    assert response.status_code == 403


async def test_callers_need_calling_call_in_the_units_tree(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    outsider_root = await factory.org("Elsewhere", kind="federal")
    outsider = await factory.user("caller", outsider_root["id"])
    viewer = await factory.user("viewer", campaign.district_a["id"])
    for user in (outsider, viewer):
        response = await client.post(
            campaign.url() + f"/assignments/{assignment['id']}/callers",
            json={"user_id": user.id},
            headers=campaign.organizer.headers,
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "user_id"
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    removed = await client.delete(
        campaign.url() + f"/assignments/{assignment['id']}/callers/{caller.id}",
        headers=campaign.organizer.headers,
    )
    assert removed.status_code == 204
    state = await db.fetch_one("SELECT state FROM calling_call WHERE id = {}", call["call_id"])
    assert state["state"] == "released"


async def _segment_count(client, campaign, filters) -> int:
    response = await client.post(
        campaign.url().replace("/calling", "/segments/preview"),
        json={"filters": filters},
        headers=campaign.organizer.headers,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["count"]


async def test_segment_filters(client, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    outcomes = ["reached", "no_answer", "reached"]
    for outcome in outcomes:
        call = await next_call(client, campaign, assignment["id"], caller)
        answers = {"topics": ["Miete"]} if outcome == "reached" else {}
        await report(client, campaign, call["call_id"], caller, outcome=outcome, answers=answers)
    aid = assignment["id"]
    assert (
        await _segment_count(client, campaign, [{"type": "calling_called", "assignment_id": aid}])
        == 3
    )
    assert await _segment_count(client, campaign, [{"type": "calling_reached"}]) == 2
    assert (
        await _segment_count(
            client, campaign, [{"type": "calling_outcome", "outcome": "no_answer"}]
        )
        == 1
    )
    answered = {
        "type": "calling_answered",
        "assignment_id": aid,
        "question": "topics",
        "option": "Miete",
    }
    assert await _segment_count(client, campaign, [answered]) == 2
    not_called = [
        {"type": "org", "org_id": campaign.federal["id"]},
        {"type": "calling_called", "op": "sub"},
    ]
    assert await _segment_count(client, campaign, not_called) == 3


async def _count(client, campaign, where) -> int:
    response = await client.post(
        campaign.url().replace("/calling", "/segments/preview"),
        json={"where": where},
        headers=campaign.organizer.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["count"]


async def test_most_active_callers_and_why_the_queue_holds_people_back(client, campaign):
    assignment = await open_assignment(client, campaign)
    aid = assignment["id"]
    busy, calm = campaign.callers
    # the callers' user accounts are linked to person records (volunteers in the database)
    for caller, person in zip(campaign.callers, campaign.people[:2], strict=True):
        await db.execute(
            "UPDATE orga_user SET person_id = {} WHERE id = {}", person["id"], caller.id
        )
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    call = await next_call(client, campaign, aid, busy)
    await report(client, campaign, call["call_id"], busy, outcome="no_answer")
    call = await next_call(client, campaign, aid, busy)
    await report(
        client, campaign, call["call_id"], busy, outcome="call_back", call_back_after=later
    )
    call = await next_call(client, campaign, aid, calm)
    await report(client, campaign, call["call_id"], calm, outcome="reached")
    await next_call(client, campaign, aid, calm)  # stays reserved

    def active(**fields):
        return {"type": "calling_activity", **fields}

    assert await _count(client, campaign, active()) == 2
    assert await _count(client, campaign, active(at_least=2)) == 1
    assert await _count(client, campaign, active(at_least=2, days=1, assignment_id=aid)) == 1
    assert await _count(client, campaign, active(before="2000-01-01T00:00:00Z")) == 0
    assert await _count(client, campaign, active(assignment_id=aid + 1)) == 0
    bad = await client.post(
        campaign.url().replace("/calling", "/segments/preview"),
        json={"where": active(days=3, after="2026-01-01T00:00:00Z")},
        headers=campaign.organizer.headers,
    )
    assert bad.status_code == 422

    def blocked(*reasons, **fields):
        body = {"type": "calling_blocked", **fields}
        if reasons:
            body["reasons"] = list(reasons)
        return body

    for reason in ("cooldown", "call_back", "reserved"):
        assert await _count(client, campaign, blocked(reason)) == 1, reason
    assert await _count(client, campaign, blocked()) == 3
    assert await _count(client, campaign, blocked(assignment_id=aid + 1)) == 0
    # the person's own reasons are core's: nobody here lacks a number or is blocked
    everyone_else = {"type": "not", "of": {"type": "call_blocked"}}
    assert await _count(client, campaign, everyone_else) == len(campaign.people)


async def test_export_summary_merge_and_erase(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    person_id = call["person"]["id"]
    await report(client, campaign, call["call_id"], caller, notes="Nett", wants_local_contact=True)
    admin = await factory.user("admin", campaign.federal["id"])
    people_url = f"/api/orgs/{campaign.federal['id']}/people"
    detail = (await client.get(f"{people_url}/{person_id}", headers=admin.headers)).json()
    assert detail["summaries"]["calling"]["last_calls"][0]["notes"] == "Nett"
    export = await client.get(f"{people_url}/{person_id}/export", headers=admin.headers)
    assert export.status_code == 200 and "Nett" in export.text
    twin = await factory.person(campaign.district_a["id"], first_name="Twin")
    merged = await client.post(
        f"{people_url}/merge",
        json={"kept_id": twin["id"], "merged_ids": [person_id]},
        headers=admin.headers,
    )
    assert merged.status_code in (200, 201, 204), merged.text
    moved = await db.fetch("SELECT person_id FROM calling_call WHERE id = {}", call["call_id"])
    assert moved == [{"person_id": twin["id"]}]
    erased = await client.delete(f"{people_url}/{twin['id']}", headers=admin.headers)
    assert erased.status_code == 204, erased.text
    for table in ("calling_call", "calling_followup", "calling_target", "calling_answer"):
        left = await db.fetch(f"SELECT id FROM {table} WHERE person_id = {{}}", twin["id"])
        assert left == [], table


async def test_two_organizers_cannot_overwrite_each_others_assignment_change(
    client, factory, campaign
):
    """Both read the assignment; the second PATCH with the ETag read is a 412."""
    assignment = await open_assignment(client, campaign)
    colleague = await factory.user("organizer", campaign.federal["id"])
    after = await two_organizers(
        client,
        campaign.url() + f"/assignments/{assignment['id']}",
        (campaign.organizer, {"title": "Haustür-Nachbereitung"}),
        (colleague, {"title": "Wahlkampfauftakt", "cooldown_hours": 1}),
    )
    assert after["title"] == "Haustür-Nachbereitung" and after["cooldown_hours"] == 24


async def test_roster_is_paged_and_adding_answers_the_entry(client, factory, campaign):
    """The roster is listed in keyset pages by user id; adding a caller answers their entry
    (not the whole roster)."""
    assignment = await open_assignment(client, campaign)
    url = campaign.url() + f"/assignments/{assignment['id']}/callers"
    headers = campaign.organizer.headers
    more = [await factory.user("caller", campaign.district_b["id"]) for _ in range(3)]
    for user in more:
        added = await client.post(
            url, json={"user_id": user.id, "prioritized_tags": ["vip"]}, headers=headers
        )
        assert added.status_code == 201, added.text
        assert added.json() == {
            "user_id": user.id,
            "display_name": user.email.split("@")[0],
            "prioritized_tags": ["vip"],
            "excluded_tags": [],
            "calls": 0,
        }
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=headers)).json()
        seen += [c["user_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([c.id for c in campaign.callers] + [u.id for u in more])
    bad = await client.get(url, params={"cursor": "nope"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_duplicate_copies_settings_survey_and_roster_as_a_draft(client, campaign):
    assignment = await open_assignment(client, campaign, show_earlier_notes=True)
    url = campaign.url() + f"/assignments/{assignment['id']}/duplicate"
    headers = campaign.organizer.headers
    empty = await client.post(url, json={"title": ""}, headers=headers)
    assert empty.status_code in (400, 422) and empty.json()["errors"][0]["field"] == "title"
    copy = await client.post(url, json={"title": "Zweite Runde"}, headers=headers)
    assert copy.status_code == 201, copy.text
    body = copy.json()
    assert body["title"] == "Zweite Runde" and body["state"] == "draft"
    assert body["survey"] == assignment["survey"] and body["show_earlier_notes"] is True
    assert body["targets"] == assignment["targets"]
    roster = await client.get(
        campaign.url() + f"/assignments/{body['id']}/callers", headers=headers
    )
    assert {c["user_id"] for c in roster.json()["items"]} == {c.id for c in campaign.callers}
