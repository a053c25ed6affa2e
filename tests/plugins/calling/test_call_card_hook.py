"""The runtime hook ``call_card_sections`` (issue #25 item 3): modules add sections to the
call screen whose forms post to their own handlers with the call's grant. A third-party
module, events (a district caller signs a callee of another district up for that district's
event and for the campaign's) and linksaktiv (topics, newspaper distribution)."""

from __future__ import annotations

import re
import types
from datetime import datetime, timedelta

import pytest
from litestar import Request, Response, post

from core import CallField, CallForm, CallSection, ConsolePages, Module, db, hookimpl
from core.api import Actor, OrgScope, call_card_return, read_call_grant, see_other, utcnow
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.calling.conftest import open_assignment
from tests.plugins.events.conftest import event_body

NOTED: list[tuple[int, str]] = []


@hookimpl
def register_module() -> Module:
    return Module(name="petitions", title="Petitions", version="0")


@hookimpl
async def call_card_sections(person_id, org_id, actor, locale):
    return [
        CallSection(
            title="Petition",
            lines=[f"Person {person_id}"],
            forms=[
                CallForm(
                    action=f"/app/orgs/{org_id}/petitions/sign",
                    submit="Sign the petition",
                    fields=[CallField(name="name", kind="text", label="Name on the list")],
                )
            ],
            order=5,
        )
    ]


@post("/sign", status_code=303)
async def sign(request: Request, actor: Actor, org: OrgScope) -> Response:
    form = await request.form()
    person_id = read_call_grant(form.get("grant"), actor.user_id)
    NOTED.append((person_id, form.get("name")))
    return see_other(call_card_return(form.get("return_to"), "/app"), "Signed.")


@hookimpl
def register_pages() -> ConsolePages:
    return ConsolePages(handlers=[sign])


PETITIONS = types.SimpleNamespace(
    register_module=register_module,
    call_card_sections=call_card_sections,
    register_pages=register_pages,
    __name__="petitions",
)


@pytest.fixture
def orga_plugins():
    NOTED.clear()
    return [PETITIONS]


def _section_form(html: str, action_end: str) -> dict[str, str]:
    """The hidden fields of the section form posting to ``…action_end``."""
    match = re.search(
        r'<form method="post" action="([^"]*' + re.escape(action_end) + r')"[^>]*>(.*?)</form>',
        html,
        re.S,
    )
    assert match, html[:4000]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match[2]))
    return {"action": match[1], **fields}


async def _card(client, factory, campaign, *modules: str, home: int | None = None):
    """The first caller's call screen with a person reserved (of unit ``home`` when given)."""
    for module in modules:
        await factory.enable(campaign.federal["id"], module)
    assignment = await open_assignment(client, campaign)
    if home is not None:  # the others wait
        await db.execute(
            "UPDATE calling_target SET available_at = {} WHERE person_id IN "
            "(SELECT id FROM person WHERE home_org_id <> {})",
            utcnow() + timedelta(days=1),
            home,
        )
    client.cookies.set("orga_lang", "en")
    await console_login(client, campaign.callers[0].email)
    client.follow_redirects = True
    screen = f"/app/orgs/{campaign.district_a['id']}/calling/assignments/{assignment['id']}/call"
    page = await client.get(screen)
    card = await client.post(screen + "/next", data={"_csrf": csrf_of(page.text)})
    assert card.status_code == 200
    call = await db.fetch_one(
        "SELECT person_id FROM calling_call WHERE caller_id = {} AND state = 'reserved'",
        campaign.callers[0].id,
    )
    return screen, card, call["person_id"]


async def test_a_third_party_section_posts_to_its_own_handler_with_the_grant(
    client, factory, campaign
):
    screen, card, person_id = await _card(client, factory, campaign, "petitions")
    assert "<h2" in card.text and "Petition" in card.text and f"Person {person_id}" in card.text
    form = _section_form(card.text, "/petitions/sign")
    back = await client.post(form["action"], data={**form, "name": "Rosa"})
    assert back.status_code == 200 and str(back.url).endswith(screen)
    assert "Signed." in back.text
    assert NOTED == [(person_id, "Rosa")]
    forged = await client.post(
        form["action"], data={**form, "grant": form["grant"][:-2] + "xx"}, follow_redirects=False
    )
    assert forged.status_code == 403 and len(NOTED) == 1
    elsewhere = await client.post(
        form["action"],
        data={**form, "return_to": "https://evil.example/app/"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/app"


async def test_a_section_of_a_module_that_is_off_is_not_shown(client, factory, campaign):
    _screen, card, _person = await _card(client, factory, campaign)
    assert "Petition" not in card.text


async def test_events_sign_up_a_callee_of_another_district_from_the_call_card(
    client, factory, campaign
):
    """The caller's role is in district A; the callee lives in district B (federal campaign)."""
    await factory.enable(campaign.federal["id"], "events")
    events = {}
    for unit in (campaign.district_a, campaign.district_b, campaign.federal, campaign.state):
        made = await client.post(
            f"/api/orgs/{unit['id']}/events",
            json=event_body(title=f"Treffen {unit['name']}"),
            headers=campaign.organizer.headers,
        )
        assert made.status_code == 201, made.text
        events[unit["name"]] = made.json()["id"]
    screen, card, person_id = await _card(
        client, factory, campaign, "events", home=campaign.district_b["id"]
    )
    # the home unit's and the assignment's (federal) events; not the state's, not district A's
    assert "Treffen Kreis B" in card.text and "Treffen Bund" in card.text
    assert "Treffen Land" not in card.text and "Treffen Kreis A" not in card.text
    form = _section_form(card.text, "/events/call-card/signup")
    assert form["event_id"] == str(events["Kreis B"])  # soonest first, same start: by id
    back = await client.post(form["action"], data=form)
    assert back.status_code == 200 and str(back.url).endswith(screen)
    assert "Signed up for the event." in back.text
    row = await db.fetch_one(
        "SELECT event_id, status, source FROM events_participation WHERE person_id = {}",
        person_id,
    )
    assert row == {"event_id": events["Kreis B"], "status": "signed_up", "source": "call"}
    assert "Treffen Kreis B (Kreis B)" in back.text and ": signed up" in back.text
    audit = await db.fetch_one(
        "SELECT user_id FROM audit_log WHERE action = 'events.participant_added'"
    )
    assert audit["user_id"] == campaign.callers[0].id
    # an event of a unit the person does not belong to is refused, and so is a forged grant
    refused = await client.post(form["action"], data={**form, "event_id": events["Kreis A"]})
    assert refused.status_code == 200 and 'class="flash flash-error"' in refused.text
    forged = await client.post(
        form["action"], data={**form, "grant": "x.y"}, follow_redirects=False
    )
    assert forged.status_code == 403


async def test_linksaktiv_saves_topics_and_newspaper_distribution_from_the_call_card(
    client, factory, campaign
):
    _screen, card, person_id = await _card(client, factory, campaign, "linksaktiv")
    assert "Distributes the newspaper" in card.text
    form = _section_form(card.text, "/linksaktiv/call-card/interests")
    slugs = re.findall(r'name="topics" value="([^"]+)"', card.text)
    assert slugs
    back = await client.post(form["action"], data={**form, "topics": slugs[:1], "newspapers": "1"})
    assert back.status_code == 200 and "Interests saved." in back.text
    topics = await db.fetch(
        "SELECT t.slug FROM linksaktiv_interest i JOIN linksaktiv_topic t ON t.id = i.topic_id "
        "WHERE i.person_id = {}",
        person_id,
    )
    assert [t["slug"] for t in topics] == slugs[:1]
    activist = await db.fetch_one(
        "SELECT status, source, help FROM linksaktiv_activist WHERE person_id = {}", person_id
    )
    assert activist["source"] == "call" and "newspapers" in str(activist["help"])
    assert re.search(r'name="newspapers" value="1" checked', back.text)
    unknown = await client.post(form["action"], data={**form, "topics": "no-such-topic"})
    assert 'class="flash flash-error"' in unknown.text


async def test_an_event_with_shifts_is_signed_up_for_shift_by_shift_from_the_call_card(
    client, factory, campaign
):
    """An info stand with shifts: the card offers each shift (as the public page does), the
    chosen one is signed up for and then shown as such; a shift of another event is refused."""
    await factory.enable(campaign.federal["id"], "events")
    made = await client.post(
        f"/api/orgs/{campaign.district_b['id']}/events",
        json=event_body(title="Infostand"),
        headers=campaign.organizer.headers,
    )
    assert made.status_code == 201, made.text
    event = made.json()
    start = datetime.fromisoformat(event["start_at"])
    shifts = []
    for hours, title in ((0, "Aufbau"), (1, "Abbau")):
        added = await client.post(
            f"/api/orgs/{campaign.district_b['id']}/events/{event['id']}/shifts",
            json={
                "start_at": (start + timedelta(hours=hours)).isoformat(),
                "end_at": (start + timedelta(hours=hours + 1)).isoformat(),
                "title": title,
            },
            headers=campaign.organizer.headers,
        )
        assert added.status_code == 201, added.text
        shifts.append(added.json()["id"])
    other = await client.post(
        f"/api/orgs/{campaign.district_b['id']}/events",
        json=event_body(title="Treffen"),
        headers=campaign.organizer.headers,
    )
    foreign = await client.post(
        f"/api/orgs/{campaign.district_b['id']}/events/{other.json()['id']}/shifts",
        json={"start_at": other.json()["start_at"], "end_at": other.json()["end_at"]},
        headers=campaign.organizer.headers,
    )
    assert foreign.status_code == 201, foreign.text
    screen, card, _person = await _card(
        client, factory, campaign, "events", home=campaign.district_b["id"]
    )
    assert "Infostand \u2013 Aufbau" in card.text and "Infostand \u2013 Abbau" in card.text
    assert card.text.count("Sign up for this shift") == 3  # two of the stand's, one of Treffen
    form = _section_form(card.text, "/events/call-card/signup")
    assert (form["event_id"], form["shift_id"]) == (str(event["id"]), str(shifts[0]))
    refused = await client.post(
        form["action"], data={**form, "shift_id": str(foreign.json()["id"])}
    )
    assert 'class="flash flash-error"' in refused.text
    assert await db.fetch("SELECT id FROM events_participation") == []
    back = await client.post(form["action"], data=form)
    assert back.status_code == 200 and str(back.url).endswith(screen)
    assert "Signed up for the event." in back.text
    rows = await db.fetch("SELECT shift_id, status, source FROM events_participation")
    assert rows == [{"shift_id": shifts[0], "status": "signed_up", "source": "call"}]
    assert "Infostand \u2013 Aufbau (Kreis B)" in back.text and ": signed up" in back.text
    assert back.text.count("Sign up for this shift") == 2  # Abbau and Treffen still offered
