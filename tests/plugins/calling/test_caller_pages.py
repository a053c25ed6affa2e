"""The volunteer's console pages over HTTP (issue #25 items 1, 2, 4, 5): my calls across
units, the call screen with save-and-next / save-and-pause / skip, every outcome, errors
beside the fields, the empty queue explained, an expired reservation handled kindly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core import db
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.calling.conftest import (
    expire_reservations,
    make_campaign,
    next_call,
    open_assignment,
)


def _base(campaign) -> str:
    return f"/app/orgs/{campaign.district_a['id']}/calling"


def _call_id(html: str) -> int:
    match = re.search(r'/calls/(\d+)" class="report"', html)
    assert match, html[:3000]
    return int(match.group(1))


async def _login(client, user) -> None:
    """Log in through the form; the pages in English."""
    client.cookies.set("orga_lang", "en")
    await console_login(client, user.email)


async def _start(client, campaign, assignment_id: int):
    """Log the first caller in and open the call screen with a reserved person."""
    await _login(client, campaign.callers[0])
    client.follow_redirects = True  # post-redirect-get: read the page the form leads to
    screen = f"{_base(campaign)}/assignments/{assignment_id}/call"
    page = await client.get(screen)
    assert page.status_code == 200 and "Start calling" in page.text
    started = await client.post(screen + "/next", data={"_csrf": csrf_of(page.text)})
    assert started.status_code == 200  # followed to the card
    return screen, started


async def test_my_calls_lists_assignments_across_units_with_progress(client, campaign):
    assignment = await open_assignment(client, campaign, instructions="**Be kind**")
    await _login(client, campaign.callers[0])
    page = await client.get(f"{_base(campaign)}/mine")
    assert page.status_code == 200
    # a federal assignment, called through the caller's own district
    assert "100.000 Anrufe" in page.text and "Bund" in page.text
    assert f"{_base(campaign)}/assignments/{assignment['id']}/call" in page.text
    assert "0 of 6 done" in page.text
    menu = await client.get(f"/app/orgs/{campaign.district_a['id']}")
    assert f'href="{_base(campaign)}/mine"' in menu.text


async def test_the_call_card_shows_the_person_the_instructions_and_saves_and_goes_on(
    client, campaign
):
    assignment = await open_assignment(
        client, campaign, instructions="Say **hello**\n\n<script>alert(1)</script>"
    )
    _screen, card = await _start(client, campaign, assignment["id"])
    assert 'href="tel:+4930' in card.text
    assert "<strong>hello</strong>" in card.text and "<script>alert" not in card.text
    assert "Kreis A" in card.text or "Kreis B" in card.text
    first = _call_id(card.text)
    mine = await client.get(f"{_base(campaign)}/mine")
    assert "Resume your open call" in mine.text  # the call left open
    saved = await client.post(
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{first}",
        data={
            "_csrf": csrf_of(card.text),
            "action": "next",
            "outcome": "reached",
            "answers.topics": ["Miete", "Frieden"],
            "answers.comment": "Mehr Busse",
            "notes": "Freundlich",
        },
    )
    assert saved.status_code == 200, saved.text[:2000]
    second = _call_id(saved.text)
    assert second != first
    twice = await client.post(  # the same form again (a second click): nothing changes
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{first}",
        data={"_csrf": csrf_of(card.text), "action": "next", "outcome": "busy"},
    )
    assert twice.status_code == 200 and "This call is no longer open." in twice.text
    assert _call_id(twice.text) == second
    row = await db.fetch_one("SELECT state, outcome, notes FROM calling_call WHERE id = {}", first)
    assert row == {"state": "reported", "outcome": "reached", "notes": "Freundlich"}
    answers = await db.fetch(
        "SELECT question, value FROM calling_answer WHERE call_id = {} ORDER BY value", first
    )
    assert [(a["question"], a["value"]) for a in answers] == [
        ("topics", "Frieden"),
        ("comment", "Mehr Busse"),
        ("topics", "Miete"),
    ]


async def test_every_outcome_once_pause_and_skip(client, factory):
    campaign = await make_campaign(factory, people_per_district=5)
    assignment = await open_assignment(client, campaign)
    _screen, card = await _start(client, campaign, assignment["id"])
    region_phone = None
    for outcome, extra in [
        ("no_answer", {}),
        ("busy", {}),
        ("voicemail", {}),
        ("call_back", {"call_back": "tomorrow_evening"}),
        ("not_available", {}),
        ("wrong_number", {"corrected_phone": "+49 30 9999999"}),
    ]:
        call_id = _call_id(card.text)
        person = await db.fetch_one("SELECT person_id FROM calling_call WHERE id = {}", call_id)
        if outcome == "wrong_number":
            phone = await db.fetch_one(
                "SELECT e164 FROM person_phone WHERE person_id = {}", person["person_id"]
            )
            extra = {**extra, "phone": phone["e164"]}
            region_phone = (person["person_id"], phone["e164"])
        card = await client.post(
            f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
            data={"_csrf": csrf_of(card.text), "action": "next", "outcome": outcome, **extra},
        )
        assert card.status_code == 200, (outcome, card.text[:2000])
        row = await db.fetch_one("SELECT outcome FROM calling_call WHERE id = {}", call_id)
        assert row["outcome"] == outcome
    tomorrow = await db.fetch_one(
        "SELECT call_back_after FROM calling_call WHERE outcome = 'call_back'"
    )
    assert tomorrow["call_back_after"] > datetime.now(UTC) + timedelta(hours=1)
    phones = await db.fetch(
        "SELECT e164, valid FROM person_phone WHERE person_id = {} ORDER BY position",
        region_phone[0],
    )
    assert phones == [
        {"e164": region_phone[1], "valid": False},
        {"e164": "+49309999999", "valid": True},
    ]
    # skip with a reason: audited, the next person comes
    call_id = _call_id(card.text)
    card = await client.post(
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
        data={"_csrf": csrf_of(card.text), "action": "skip", "skip_reason": "kenne ich"},
    )
    assert card.status_code == 200 and _call_id(card.text) != call_id
    skipped = await db.fetch_one(
        "SELECT detail FROM audit_log WHERE action = 'calling.skipped' AND object_id IS NOT NULL"
    )
    assert "kenne ich" in str(skipped["detail"])
    # do not call, with the follow-ups; then save and pause
    call_id = _call_id(card.text)
    card = await client.post(
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
        data={
            "_csrf": csrf_of(card.text),
            "action": "next",
            "outcome": "do_not_call",
            "wants_local_contact": "1",
            "organizer_action_needed": "1",
            "organizer_action": "Bitte Adresse prüfen",
        },
    )
    assert card.status_code == 200
    kinds = await db.fetch("SELECT kind FROM calling_followup ORDER BY kind")
    assert [k["kind"] for k in kinds] == ["local_contact", "organizer_action"]
    call_id = _call_id(card.text)
    paused = await client.post(
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
        data={"_csrf": csrf_of(card.text), "action": "pause", "outcome": "reached"},
    )
    assert paused.status_code == 200 and "Saved." in paused.text
    assert str(paused.url).endswith("/calling/mine")
    assert (
        await db.fetch(
            "SELECT id FROM calling_call WHERE caller_id = {} AND state = 'reserved'",
            campaign.callers[0].id,
        )
        == []
    )


async def test_a_report_with_errors_comes_back_with_everything_typed(client, campaign):
    assignment = await open_assignment(client, campaign)
    _screen, card = await _start(client, campaign, assignment["id"])
    call_id = _call_id(card.text)
    url = f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}"
    missing = await client.post(
        url, data={"_csrf": csrf_of(card.text), "action": "next", "notes": "Wichtig"}
    )
    assert missing.status_code == 422
    assert 'id="f-outcome-error"' in missing.text and "Wichtig" in missing.text
    past = await client.post(
        url,
        data={
            "_csrf": csrf_of(card.text),
            "outcome": "call_back",
            "call_back": "at",
            "call_back_at": "2001-01-01T10:00",
            "notes": "Abends",
        },
    )
    assert past.status_code == 422 and 'id="f-call_back_at-error"' in past.text
    assert 'value="2001-01-01T10:00"' in past.text
    organizer = await client.post(
        url,
        data={"_csrf": csrf_of(card.text), "outcome": "reached", "organizer_action_needed": "1"},
    )
    assert organizer.status_code == 422 and 'id="f-organizer_action-error"' in organizer.text
    wrong = await client.post(
        url,
        data={
            "_csrf": csrf_of(card.text),
            "outcome": "wrong_number",
            "phone": "+4930000",
            "corrected_phone": "abc",
        },
    )
    assert wrong.status_code == 422 and "f-corrected_phone-error" in wrong.text
    row = await db.fetch_one("SELECT state FROM calling_call WHERE id = {}", call_id)
    assert row["state"] == "reserved"  # nothing was saved


async def test_an_empty_queue_says_why_and_when(client, campaign):
    assignment = await open_assignment(client, campaign)
    _screen, card = await _start(client, campaign, assignment["id"])
    for _ in range(6):
        call_id = _call_id(card.text)
        card = await client.post(
            f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
            data={"_csrf": csrf_of(card.text), "action": "next", "outcome": "no_answer"},
        )
        assert card.status_code == 200
    assert str(card.url).endswith("?empty=1")
    assert "Nobody to call right now" in card.text
    assert "Called recently, waiting before the next try: 6" in card.text
    assert "The next person can be called from" in card.text


async def test_an_empty_queue_counts_call_backs_and_other_callers(client, campaign):
    from plugins.calling.caller import queue_status

    assignment = await open_assignment(client, campaign)
    now = datetime.now(UTC)
    targets = await db.fetch(
        "SELECT id FROM calling_target WHERE assignment_id = {} ORDER BY id", assignment["id"]
    )
    later = now + timedelta(hours=2)
    await db.execute(
        "UPDATE calling_target SET available_at = {}, call_back_after = {} WHERE id = {}",
        later,
        later,
        targets[0]["id"],
    )
    await db.execute(
        "UPDATE calling_target SET available_at = {}, current_call_id = 999 WHERE id = {}",
        now + timedelta(minutes=10),
        targets[1]["id"],
    )
    await db.execute("UPDATE calling_target SET state = 'done' WHERE id = {}", targets[2]["id"])
    status = await queue_status(assignment["id"], now)
    assert (status.done, status.ready, status.call_back, status.with_callers) == (1, 3, 1, 1)
    assert status.next_at is not None and abs(status.next_at - (now + timedelta(minutes=10))) < (
        timedelta(seconds=1)
    )


async def test_an_expired_reservation_keeps_the_report_when_nobody_else_has_the_person(
    client, campaign
):
    assignment = await open_assignment(client, campaign)
    screen, card = await _start(client, campaign, assignment["id"])
    call_id = _call_id(card.text)
    await expire_reservations()
    again = await client.get(screen)
    assert again.status_code == 200 and "your report is still saved" in again.text
    saved = await client.post(
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
        data={"_csrf": csrf_of(card.text), "action": "pause", "outcome": "reached"},
    )
    assert saved.status_code == 200
    row = await db.fetch_one("SELECT state FROM calling_call WHERE id = {}", call_id)
    assert row["state"] == "reported"


async def test_an_expired_reservation_taken_by_another_caller_keeps_the_notes(client, campaign):
    assignment = await open_assignment(client, campaign)
    _screen, card = await _start(client, campaign, assignment["id"])
    call_id = _call_id(card.text)
    mine = await db.fetch_one("SELECT person_id FROM calling_call WHERE id = {}", call_id)
    await expire_reservations()
    await db.execute(  # everybody else waits: the other caller gets this person
        "UPDATE calling_target SET available_at = {} WHERE person_id <> {}",
        datetime.now(UTC) + timedelta(days=1),
        mine["person_id"],
    )
    other = await next_call(client, campaign, assignment["id"], campaign.callers[1])
    assert other["person"]["id"] == mine["person_id"]  # handed to the other caller
    lost = await client.post(
        f"{_base(campaign)}/assignments/{assignment['id']}/calls/{call_id}",
        data={
            "_csrf": csrf_of(card.text),
            "action": "next",
            "outcome": "reached",
            "notes": "Will beim Wahlkampf helfen",
        },
    )
    assert lost.status_code == 409
    assert "went to another caller" in lost.text and "Will beim Wahlkampf helfen" in lost.text
    row = await db.fetch_one("SELECT state FROM calling_call WHERE id = {}", call_id)
    assert row["state"] == "reserved"


async def test_call_pages_are_404_across_units_and_need_the_roster(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    other = await factory.org("Anderswo", kind="federal")
    await factory.enable(other["id"], "calling")
    stranger = await factory.user("caller", other["id"])
    await _login(client, stranger)
    page = await client.get(f"/app/orgs/{other['id']}/calling/assignments/{assignment['id']}/call")
    assert page.status_code == 404
    hidden = await client.get(f"{_base(campaign)}/mine")
    assert hidden.status_code in (403, 404)
