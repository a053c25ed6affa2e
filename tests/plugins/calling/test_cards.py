"""The calling cards on a unit's start page (issue #24): open follow-ups and the assignments
in progress with their progress, only for holders of ``calling.manage`` and only where the
module is on for the unit."""

from __future__ import annotations

import re

from core.orgs.services import set_module
from tests.core.console.helpers import console_login
from tests.plugins.calling.conftest import next_call, open_assignment, report


def _cards(html: str) -> str:
    match = re.search(r'<ul class="cards">(.*?)</ul>', html, re.S)
    return re.sub(r"\s+", " ", match.group(1)) if match else ""


async def _two_calls_with_follow_ups(client, campaign) -> dict:
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    first = await next_call(client, campaign, assignment["id"], caller)
    answered = await report(client, campaign, first["call_id"], caller, wants_local_contact=True)
    assert answered.status_code == 204, answered.text
    second = await next_call(client, campaign, assignment["id"], caller)
    answered = await report(
        client, campaign, second["call_id"], caller, organizer_action="Will Plakate kleben"
    )
    assert answered.status_code == 204, answered.text
    return assignment


async def test_an_organizer_sees_follow_ups_and_the_progress_of_open_assignments(client, campaign):
    await _two_calls_with_follow_ups(client, campaign)
    await console_login(client, campaign.organizer.email)
    page = await client.get(f"/app/orgs/{campaign.federal['id']}")
    assert page.status_code == 200, page.text
    cards = _cards(page.text)
    assert "Offene Nachfassaufgaben</h2>" in cards
    assert (
        '<li class="card attention"> <h2>Offene Nachfassaufgaben</h2> <p class="figure">2</p>'
        in cards
    )
    assert "1 brauchen eine*n Organisator*in, 1 wollen Kontakt zur Gruppe vor Ort" in cards
    assert "100.000 Anrufe</h2>" in cards
    assert "2 von 6 Personen angerufen" in cards
    assert '<progress max="100" value="33" aria-label="100.000 Anrufe">' in cards


async def test_the_cards_vanish_where_calling_is_off(client, campaign):
    await _two_calls_with_follow_ups(client, campaign)
    await console_login(client, campaign.organizer.email)
    await set_module(campaign.federal["id"], "calling", False)
    page = await client.get(f"/app/orgs/{campaign.federal['id']}")
    assert page.status_code == 200, page.text
    assert "Nachfassaufgaben" not in page.text and "100.000 Anrufe" not in page.text


async def test_a_caller_sees_no_calling_cards(client, campaign):
    await _two_calls_with_follow_ups(client, campaign)
    caller = campaign.callers[0]
    await console_login(client, caller.email)
    page = await client.get(f"/app/orgs/{campaign.district_a['id']}")
    assert page.status_code == 200, page.text
    assert "Nachfassaufgaben" not in page.text and "Personen angerufen" not in page.text
