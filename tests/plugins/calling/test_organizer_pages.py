"""The organizer's calling pages over HTTP (issue #25 items 6 and 7): the unit's assignments,
create and edit with the segment builder for target and goal, a survey and a Markdown
preview, errors beside the field, duplicate, close; callers added with tags and removed;
404 across units, permissions."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from core import db
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.calling.conftest import open_assignment


async def _organizer(client, campaign, unit=None):
    await console_login(client, campaign.organizer.email)
    client.cookies.set("orga_lang", "en")
    return f"/app/orgs/{(unit or campaign.federal)['id']}/calling/assignments"


def _form(html: str) -> list[tuple[str, str]]:
    """The assignment form's fields as the page shows them (inputs, selected options,
    textareas), enough to post it back."""
    body = html.split('id="assignment-form"', 1)[1].split("</form>", 1)[0]
    pairs: list[tuple[str, str]] = []
    for tag in re.findall(r"<input [^>]*>", body):
        name = re.search(r'name="([^"]*)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]*)"', tag)
        if kind and kind[1] == "checkbox" and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        pairs.append((name[1], value[1] if value else ""))
    for name, inner in re.findall(r'<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', inner)
        pairs.append((name, chosen[1] if chosen else ""))
    for name, text in re.findall(
        r'<textarea [^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', body, re.S
    ):
        pairs.append((name, text))
    from html import unescape

    return [(unescape(k), unescape(v)) for k, v in pairs]


async def _post(client, url: str, pairs):
    """Post form fields given as pairs (a name may repeat)."""
    return await client.post(
        url,
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _set(pairs, **values):
    """``pairs`` with the fields in ``values`` (dots written as __) replaced or added."""
    values = {k.replace("__", "."): v for k, v in values.items()}
    kept = [(k, v) for k, v in pairs if k not in values]
    return kept + list(values.items())


async def test_create_with_builder_survey_and_preview_then_edit(client, factory, campaign):
    base = await _organizer(client, campaign)
    new = await client.get(f"{base}/new")
    assert new.status_code == 200 and 'name="new.target"' in new.text
    pairs = _set(_form(new.text), _csrf=csrf_of(new.text), title="Mitglieder anrufen")
    # add a "has a phone" condition to the target: the form comes back with it, nothing lost
    added = await _post(client, f"{base}/new", _set(pairs, new__target="has_phone", add="target"))
    assert added.status_code == 200 and 'name="target.0" value="has_phone"' in added.text
    assert 'value="Mitglieder anrufen"' in added.text
    pairs = _set(_form(added.text), _csrf=csrf_of(new.text))
    # a question: add it, make it a choice without choices -> the error beside the field
    asked = await _post(client, f"{base}/new", _set(pairs, add_question="1"))
    assert 'name="survey.0.key" value="q1"' in asked.text
    pairs = _set(
        _form(asked.text),
        _csrf=csrf_of(new.text),
        survey__0__text="Welche Themen bewegen dich?",
        survey__0__kind="choice",
        instructions="Sei **freundlich**. <script>alert(1)</script>",
    )
    shown = await _post(client, f"{base}/new", _set(pairs, preview="1"))
    assert shown.status_code == 200
    assert "<strong>freundlich</strong>" in shown.text and "<script>alert" not in shown.text
    bad = await _post(client, f"{base}/new", pairs)
    assert bad.status_code == 422
    assert 'id="f-survey.0.options-error"' in bad.text
    assert 'value="Welche Themen bewegen dich?"' in bad.text
    assert await db.fetch("SELECT id FROM calling_assignment") == []
    late = _set(
        pairs,
        survey__0__options="Miete\nPflege",
        start_at="2026-01-02T10:00",
        end_at="2026-01-01T10:00",
    )
    wrong = await _post(client, f"{base}/new", late)
    assert wrong.status_code == 422 and 'id="f-end_at-error"' in wrong.text
    assert "The end must be after the start." in wrong.text
    made = await _post(client, f"{base}/new", _set(late, end_at=""))
    assert made.status_code == 303, made.text
    row = await db.fetch_one("SELECT * FROM calling_assignment")
    assert made.headers["location"] == f"{base}/{row['id']}/callers"
    survey = db.json_value(row["survey"])
    assert survey[0]["options"] == ["Miete", "Pflege"] and survey[0]["kind"] == "choice"
    assert db.json_value(row["target"]) == {"where": {"type": "all", "of": [{"type": "has_phone"}]}}
    assert db.json_value(row["goal"]) is None
    created = await db.fetch(
        "SELECT object_id FROM audit_log WHERE action = 'calling.assignment_created'"
    )
    assert created == [{"object_id": row["id"]}]
    targets = await db.fetch_one("SELECT COUNT(*) AS n FROM calling_target")
    assert targets["n"] == len(campaign.people)

    # edit: the stored target comes back in the builder; a goal and a new title are saved
    edit = await client.get(f"{base}/{row['id']}")
    assert edit.status_code == 200
    assert 'name="target.0" value="has_phone"' in edit.text
    pairs = _set(_form(edit.text), _csrf=csrf_of(edit.text), title="Neu")
    goal = await _post(
        client, f"{base}/{row['id']}", _set(pairs, new__goal="has_email", add="goal")
    )
    assert 'name="goal.0" value="has_email"' in goal.text
    saved = await _post(
        client, f"{base}/{row['id']}", _set(_form(goal.text), _csrf=csrf_of(edit.text))
    )
    assert saved.status_code == 303
    fresh = await db.fetch_one("SELECT * FROM calling_assignment WHERE id = {}", row["id"])
    assert fresh["title"] == "Neu"
    assert db.json_value(fresh["goal"])["where"]["of"] == [{"type": "has_email"}]
    assert db.json_value(fresh["survey"]) == survey  # unchanged questions stay as they were
    listed = await client.get(base)
    assert "Neu" in listed.text and "0 of 6 done" in listed.text and "Scheduled" not in listed.text


async def test_duplicate_and_close(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    base = await _organizer(client, campaign)
    page = await client.get(f"{base}/{assignment['id']}")
    token = csrf_of(page.text)
    copy = await client.post(f"{base}/{assignment['id']}/duplicate", data={"_csrf": token})
    assert copy.status_code == 303
    row = await db.fetch_one("SELECT * FROM calling_assignment WHERE id <> {}", assignment["id"])
    assert copy.headers["location"] == f"{base}/{row['id']}"
    assert row["title"] == "Copy of 100.000 Anrufe" and row["start_at"] is None
    assert len(db.json_value(row["survey"])) == 2
    callers = await db.fetch(
        "SELECT user_id FROM calling_caller WHERE assignment_id = {} ORDER BY user_id", row["id"]
    )
    assert [c["user_id"] for c in callers] == sorted(c.id for c in campaign.callers)
    closed = await client.post(f"{base}/{assignment['id']}/close", data={"_csrf": token})
    assert closed.status_code == 303
    shown = await client.get(f"{base}/{assignment['id']}")
    assert "Closed" in shown.text
    api = await client.get(
        campaign.url() + f"/assignments/{assignment['id']}", headers=campaign.organizer.headers
    )
    assert api.json()["state"] == "closed"
    # a draft closes too
    draft = await client.post(f"{base}/{row['id']}/close", data={"_csrf": token})
    assert draft.status_code == 303
    assert "Closed" in (await client.get(f"{base}/{row['id']}")).text


async def test_callers_added_with_tags_and_removed(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    newcomer = await factory.user("caller", campaign.district_b["id"])
    outsider_unit = await factory.org("Anderswo", kind="federal")
    outsider = await factory.user("caller", outsider_unit["id"])
    viewer = await factory.user("viewer", campaign.district_a["id"])
    base = await _organizer(client, campaign)
    page = await client.get(f"{base}/{assignment['id']}/callers")
    assert page.status_code == 200
    assert f'<option value="{newcomer.id}">' in page.text  # may call, not on the roster yet
    assert f'<option value="{outsider.id}"' not in page.text
    assert f'<option value="{viewer.id}"' not in page.text
    token = csrf_of(page.text)
    missing = await client.post(
        f"{base}/{assignment['id']}/callers",
        data={"_csrf": token, "user_id": "", "prioritized_tags": "Pflege"},
    )
    assert missing.status_code == 422 and 'id="f-user_id-error"' in missing.text
    assert 'value="Pflege"' in missing.text
    refused = await client.post(
        f"{base}/{assignment['id']}/callers", data={"_csrf": token, "user_id": str(outsider.id)}
    )
    assert refused.status_code == 422 and 'id="f-user_id-error"' in refused.text
    added = await client.post(
        f"{base}/{assignment['id']}/callers",
        data={
            "_csrf": token,
            "user_id": str(newcomer.id),
            "prioritized_tags": "Pflege, Miete",
            "excluded_tags": "Vorstand",
        },
    )
    assert added.status_code == 303
    roster = await client.get(
        campaign.url() + f"/assignments/{assignment['id']}/callers",
        headers=campaign.organizer.headers,
    )
    mine = [c for c in roster.json()["items"] if c["user_id"] == newcomer.id]
    assert mine[0]["prioritized_tags"] == ["Pflege", "Miete"]
    assert mine[0]["excluded_tags"] == ["Vorstand"]
    removed = await client.post(
        f"{base}/{assignment['id']}/callers/{newcomer.id}/remove", data={"_csrf": token}
    )
    assert removed.status_code == 303
    rows = await db.fetch(
        "SELECT action FROM audit_log WHERE action LIKE 'calling.caller_%' AND object_id = {} "
        "ORDER BY id",
        newcomer.id,
    )
    assert [r["action"] for r in rows] == ["calling.caller_added", "calling.caller_removed"]


async def test_404_across_units_and_permissions(client, factory, campaign):
    assignment = await open_assignment(client, campaign)
    other_root = await factory.org("Anderswo", kind="federal")
    await factory.enable(other_root["id"], "calling")
    stranger = await factory.user("organizer", other_root["id"])
    await console_login(client, stranger.email)
    client.cookies.set("orga_lang", "en")
    mine = f"/app/orgs/{other_root['id']}/calling/assignments"
    for path in ("", "/callers"):
        hidden = await client.get(f"{mine}/{assignment['id']}{path}")
        assert hidden.status_code == 404 and "100.000 Anrufe" not in hidden.text
    listed = await client.get(mine)
    assert listed.status_code == 200 and "100.000 Anrufe" not in listed.text
    # a district organizer does not see the federal unit's assignment through their unit
    district_organizer = await factory.user("organizer", campaign.district_a["id"])
    client.cookies.clear()
    await console_login(client, district_organizer.email)
    district = f"/app/orgs/{campaign.district_a['id']}/calling/assignments"
    assert (await client.get(f"{district}/{assignment['id']}")).status_code == 404
    # a caller has no menu entry and no page
    client.cookies.clear()
    await console_login(client, campaign.callers[0].email)
    start = await client.get(f"/app/orgs/{campaign.district_a['id']}")
    assert "/calling/assignments" not in start.text
    assert (await client.get(district)).status_code == 403
    page = await client.get(f"/app/orgs/{campaign.district_a['id']}")
    post = await client.post(f"{district}/new", data={"_csrf": csrf_of(page.text), "title": "x"})
    assert post.status_code == 403
    assert await db.fetch("SELECT id FROM calling_assignment WHERE title = 'x'") == []


async def test_the_organizer_sees_the_menu_entry(client, factory, campaign):
    await _organizer(client, campaign)
    start = await client.get(f"/app/orgs/{campaign.federal['id']}")
    assert f'href="/app/orgs/{campaign.federal["id"]}/calling/assignments"' in start.text


async def test_the_live_preview_renders_markdown(client, factory, campaign):
    base = await _organizer(client, campaign)
    page = await client.get(f"{base}/new")
    answer = await client.post(
        f"{base}/preview",
        data={"instructions": "- eins\n- *zwei*"},
        headers={"X-CSRF-Token": csrf_of(page.text)},
    )
    assert answer.status_code == 200
    assert answer.json()["html"] == "<ul>\n<li>eins</li>\n<li><em>zwei</em></li>\n</ul>\n"


async def test_an_assignment_page_links_its_progress_results_and_log(client, factory):
    from tests.core.console.helpers import console_login

    district = await factory.org("KV Leipzig")
    await factory.enable(district["id"], "calling")
    admin = await factory.user("admin", district["id"])
    made = await client.post(
        f"/api/orgs/{district['id']}/calling/assignments",
        json={
            "title": "Mitglieder anrufen",
            "target": {"filters": [{"type": "org", "org_id": district["id"]}]},
        },
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert made.status_code == 201, made.text
    await console_login(client, admin.email)
    base = f"/app/orgs/{district['id']}/calling/assignments/{made.json()['id']}"
    page = await client.get(base)
    for part in ("progress", "results", "log", "callers"):
        assert f'href="{base}/{part}"' in page.text
        assert (await client.get(f"{base}/{part}")).status_code == 200, part
