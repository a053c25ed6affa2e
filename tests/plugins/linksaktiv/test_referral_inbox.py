"""The referral inbox of the local campaign leadership (issue #27 item 6): accept, pass up the
tree and decline with a note, the history, 404 across units, escalation by the job when nobody
answers, the mail's link to the inbox, and a district organizer receiving referrals through a
role configured in ``[orga.roles]``."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest

from core import db
from core.tables import utcnow
from plugins.linksaktiv import gdpr
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.linksaktiv.conftest import api, run_jobs
from tests.plugins.linksaktiv.test_referrals import volunteer


@pytest.fixture
def roles_config():
    """``[orga.roles]`` of the deployment (a test parametrizes it)."""
    return {}


@pytest.fixture
def orga_overrides(smtp_sink, roles_config):
    return {"smtp_url": smtp_sink.url, "roles": roles_config}


def inbox(unit) -> str:
    return f"/app/orgs/{unit['id']}/linksaktiv/referrals"


async def referral_of(person_id: int) -> dict:
    return await db.fetch_one(
        "SELECT id, org_id, status, routed_at FROM linksaktiv_referral WHERE person_id = {}",
        person_id,
    )


async def test_the_leadership_accepts_passes_up_and_declines_with_a_note(
    app, client, factory, party
):
    leader = await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    first = await volunteer(app, client, "a@example.org", "04105", ["doors", "newspapers"])
    second = await volunteer(app, client, "b@example.org", "04107", ["phone"])
    third = await volunteer(app, client, "c@example.org", "04109", ["info_stand"])
    await console_login(client, leader.email)
    page = await client.get(inbox(party.leipzig))
    assert page.status_code == 200
    assert f'href="{inbox(party.leipzig)}"' in page.text  # the menu entry "Vermittlungen"
    main = page.text[page.text.find("<main") :]
    assert main.count('class="referral"') == 3
    assert "04105" in main and "KV Leipzig" in main
    assert "an Haustüren klingeln, Zeitungen verteilen" in main
    ids = {p: (await referral_of(p))["id"] for p in (first, second, third)}

    async def answer(person, action, note=""):
        return await client.post(
            f"{inbox(party.leipzig)}/{ids[person]}",
            data={"action": action, "note": note, "_csrf": csrf_of(page.text)},
        )

    accepted = await answer(first, "accept", "Ruft Montag an")
    assert accepted.status_code == 303
    passed = await answer(second, "pass", "Wohnt eigentlich in Dresden")
    assert passed.status_code == 303
    declined = await answer(third, "decline")
    assert declined.status_code == 303
    assert (await referral_of(first))["status"] == "accepted"
    moved = await referral_of(second)
    # Saxony has nobody receiving referrals: the next unit up with someone is the federal one
    assert moved["status"] == "new" and moved["org_id"] == party.root["id"]
    assert (await referral_of(third))["status"] == "declined"
    again = await answer(first, "decline")
    assert again.status_code == 409 and "schon beantwortet" in again.text
    nothing = await answer(first, "")
    assert nothing.status_code == 422
    assert "Nobody is waiting" not in page.text
    after = await client.get(inbox(party.leipzig))
    assert "Niemand wartet." in after.text
    history = await client.get(inbox(party.leipzig) + "?view=history")
    table = history.text[history.text.find("<tbody") :]
    assert table.count("<tr>") == 3
    assert "Ruft Montag an" in table and "Wohnt eigentlich in Dresden" in table
    assert "an Bund" in table and "leipzig" in table
    steps = await db.fetch(
        "SELECT action, note, user_id, to_org_id FROM linksaktiv_referral_step ORDER BY id"
    )
    assert [(s["action"], s["user_id"]) for s in steps] == [
        ("accepted", leader.id),
        ("passed", leader.id),
        ("declined", leader.id),
    ]
    audit = await db.fetch(
        "SELECT object_id, detail FROM audit_log WHERE action = 'linksaktiv.referral_answered' "
        "ORDER BY id"
    )
    assert [db.json_value(a["detail"])["action"] for a in audit] == ["accept", "pass", "decline"]
    # the federal team sees the passed referral with Leipzig's note, and can answer it by API
    await client.post("/app/logout", data={"_csrf": csrf_of(history.text)})
    await console_login(client, party.admin.email)
    root_inbox = await client.get(inbox(party.root))
    assert root_inbox.status_code == 200
    assert "Wohnt eigentlich in Dresden" in root_inbox.text
    by_api = await client.post(
        api(party.root, f"/referrals/{ids[second]}/answer"),
        json={"action": "accept", "note": "Wir melden uns"},
        headers=party.admin.headers,
    )
    assert by_api.status_code == 200 and by_api.json()["status"] == "accepted"
    # the note is the person's data: in their export, gone with their erasure
    exported = await gdpr.export(first)
    assert [s["note"] for s in exported["referral_steps"]] == ["Ruft Montag an"]
    await gdpr.erase(first)
    assert await db.fetch("SELECT id FROM linksaktiv_referral_step WHERE note LIKE 'Ruft%'") == []
    at_top = await client.post(
        api(party.root, f"/referrals/{ids[second]}/answer"),
        json={"action": "pass"},
        headers=party.admin.headers,
    )
    assert at_top.status_code == 409


async def test_another_units_referrals_answer_404(app, client, factory, party):
    await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    dresden = await factory.user("admin", party.dresden["id"], email="dresden@example.org")
    person = await volunteer(app, client, "a@example.org", "04105", ["doors"])
    referral = await referral_of(person)
    await console_login(client, dresden.email)
    assert (await client.get(inbox(party.leipzig))).status_code == 404
    own = await client.get(inbox(party.dresden))
    answered = await client.post(
        f"{inbox(party.dresden)}/{referral['id']}",
        data={"action": "decline", "_csrf": csrf_of(own.text)},
    )
    assert answered.status_code == 404
    by_api = await client.post(
        api(party.dresden, f"/referrals/{referral['id']}/answer"),
        json={"action": "decline"},
        headers=dresden.headers,
    )
    assert by_api.status_code == 404
    assert (await referral_of(person))["status"] == "new"
    # an organizer holds no linksaktiv.referrals by default: no menu entry, no page
    organizer = await factory.user("organizer", party.dresden["id"])
    await client.post("/app/logout", data={"_csrf": csrf_of(own.text)})
    await console_login(client, organizer.email)
    start = await client.get(f"/app/orgs/{party.dresden['id']}")
    assert inbox(party.dresden) not in start.text
    assert (await client.get(inbox(party.dresden))).status_code == 403


@pytest.fixture
def clock(monkeypatch):
    """Set the time the referral service and the job queue see."""

    def set_to(moment):
        for module in ("plugins.linksaktiv.referrals", "core.jobs.services"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: moment)

    return set_to


async def test_nobody_answers_and_the_job_moves_the_referral_up(
    app, client, factory, party, smtp_sink, clock
):
    leader = await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    state = await factory.user("admin", party.state["id"], email="sachsen@example.org")
    waiting = await volunteer(app, client, "a@example.org", "04105", ["doors"])
    answered = await volunteer(app, client, "b@example.org", "04107", ["phone"])
    await client.post(
        api(party.leipzig, f"/referrals/{(await referral_of(answered))['id']}/answer"),
        json={"action": "accept"},
        headers=leader.headers,
    )
    start = utcnow()
    clock(start + timedelta(days=6))  # the reminder is due, the escalation not yet
    await run_jobs(app)
    assert (await referral_of(waiting))["org_id"] == party.leipzig["id"]
    smtp_sink.raw.clear()
    clock(start + timedelta(days=7, minutes=1))
    await run_jobs(app)
    moved = await referral_of(waiting)
    assert moved["org_id"] == party.state["id"] and moved["status"] == "new"
    assert (await referral_of(answered))["org_id"] == party.leipzig["id"]
    step = await db.fetch_one(
        "SELECT action, user_id, org_id FROM linksaktiv_referral_step WHERE action = 'escalated'"
    )
    assert step == {"action": "escalated", "user_id": None, "org_id": party.leipzig["id"]}
    assert await db.fetch_one(
        "SELECT id FROM audit_log WHERE action = 'linksaktiv.referral_escalated'"
    )
    # Saxony's leadership is told, and only they (Leipzig's reminder was for Leipzig)
    assert [str(m["To"]) for m in smtp_sink.messages] == [state.email]
    # seven more days without an answer: on to the federal team, then it stays at the top
    clock(start + timedelta(days=14, minutes=2))
    await run_jobs(app)
    assert (await referral_of(waiting))["org_id"] == party.root["id"]
    clock(start + timedelta(days=30))
    await run_jobs(app)
    assert (await referral_of(waiting))["org_id"] == party.root["id"]


async def test_the_mail_links_to_the_inbox_which_opens_after_login(
    app, client, factory, party, smtp_sink
):
    leader = await factory.user("admin", party.leipzig["id"], email="leipzig@example.org")
    await volunteer(app, client, "a@example.org", "04105", ["doors"])
    await run_jobs(app)
    [mail] = [m for m in smtp_sink.messages if str(m["To"]) == leader.email]
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://testserver\.local(\S+)", text).group(1)
    path = link.split("#")[0]
    assert path == inbox(party.leipzig) and "/api/" not in link
    refused = await client.get(path)
    assert refused.status_code == 303
    target = unquote(refused.headers["location"].split("next=")[1])
    assert target == path
    form = await client.get(refused.headers["location"])
    logged_in = await client.post(
        "/app/login",
        data={
            "email": leader.email,
            "password": "correct horse battery staple 42",
            "_csrf": csrf_of(form.text),
            "next": target,
        },
    )
    assert logged_in.status_code == 303 and logged_in.headers["location"] == path
    opened = await client.get(path)
    assert opened.status_code == 200 and "Vol Unteer" in opened.text


@pytest.mark.parametrize("roles_config", [{"organizer": {"add": ["linksaktiv.referrals"]}}])
async def test_a_district_organizer_receives_referrals_through_the_configured_role(
    app, client, factory, party, smtp_sink
):
    organizer = await factory.user("organizer", party.leipzig["id"], email="orga@example.org")
    person = await volunteer(app, client, "a@example.org", "04105", ["doors"])
    assert (await referral_of(person))["org_id"] == party.leipzig["id"]
    await run_jobs(app)
    assert any(str(m["To"]) == organizer.email for m in smtp_sink.messages)
    await console_login(client, organizer.email)
    page = await client.get(inbox(party.leipzig))
    assert page.status_code == 200 and "04105" in page.text
