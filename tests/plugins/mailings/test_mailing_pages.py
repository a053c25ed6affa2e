"""The mailing pages of the console (issue #26, items 8 to 11) over HTTP: the list by state,
the composer with its field errors, the preview for a recipient (also of text not saved),
the audience breakdown, the confirmation with the number of recipients, pause / resume /
cancel, the statistics, the suppression list and the public web version without personal
data; 404 across units and the permissions."""

from __future__ import annotations

import re

from core import db
from core.tables import utcnow
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.mailings.conftest import add_people, drain, grant


async def _draft(client, unit, **extra) -> dict:
    body = {
        "subject": "Hallo {{ person.first_name }}",
        "body": "{{ person.salutation }},\n\nkomm zur **Demo** in {{ org.name }}!\n",
        "audience": {"filters": [{"type": "org", "org_id": unit["org"]["id"]}]},
        "sender_name": "KV Leipzig",
        "sender_address": "kv@example.org",
        **extra,
    }
    response = await client.post(unit["base"] + "/", json=body, headers=unit["admin"].headers)
    assert response.status_code == 201, response.text
    return response.json()


def _pages(unit) -> str:
    return f"/app/orgs/{unit['org']['id']}/mailings"


async def test_the_list_filters_by_state_and_subject_in_keyset_pages(client, unit):
    first = await _draft(client, unit, subject="Mietendemo")
    second = await _draft(client, unit, subject="Infostand")
    await db.execute("UPDATE mailings_mailing SET state = 'sent' WHERE id = {}", second["id"])
    await console_login(client, unit["organizer"].email)
    page = await client.get(_pages(unit))
    assert page.status_code == 200
    assert f'href="{_pages(unit)}/{first["id"]}"' in page.text and "Infostand" in page.text
    assert f'href="{_pages(unit)}"' in page.text  # the menu entry "Mailings"
    drafts = await client.get(_pages(unit), params={"state": "draft"})
    assert "Mietendemo" in drafts.text and "Infostand" not in drafts.text
    found = await client.get(_pages(unit), params={"q": "infost"})
    assert "Infostand" in found.text and "Mietendemo" not in found.text
    wrong = await client.get(_pages(unit), params={"state": "lost"})
    assert wrong.status_code == 422 and "Mietendemo" not in wrong.text
    api = await client.get(
        unit["base"] + "/", params={"state": "sent"}, headers=unit["admin"].headers
    )
    assert [m["id"] for m in api.json()["items"]] == [second["id"]]
    for n in range(50):
        await db.execute(
            "INSERT INTO mailings_mailing (org_id, subject, sender_name, sender_address, body, "
            "audience, state, round, total, version, created_at, updated_at) "
            "VALUES ({}, {}, 'x', 'x@example.org', '', {}, 'draft', 0, 0, 1, {}, {})",
            unit["org"]["id"],
            f"Alt {n}",
            "{}",
            utcnow(),
            utcnow(),
        )
    full = await client.get(_pages(unit))
    more = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', full.text)
    assert more is not None
    rest = await client.get(more.group(1).replace("&amp;", "&"))
    assert "Mietendemo" in rest.text and "Alt 49" not in rest.text


async def test_composing_shows_field_errors_and_saves_through_the_service(client, unit):
    await console_login(client, unit["organizer"].email)
    form = await client.get(f"{_pages(unit)}/new")
    assert form.status_code == 200
    for code in ("person.salutation", "person.first_name", "org.name"):
        assert code in form.text
    token = csrf_of(form.text)
    bad = await client.post(
        f"{_pages(unit)}/new",
        data={
            "_csrf": token,
            "subject": "",
            "body": "Hallo {{ person.first_name }\n",
            "cta_url": "ftp://nope",
            "audience": "all",
            "save": "1",
        },
    )
    assert bad.status_code == 422
    assert 'id="f-subject-error"' in bad.text
    assert "ftp://nope" in bad.text and "Hallo {{ person.first_name }" in bad.text
    assert await db.fetch("SELECT id FROM mailings_mailing") == []
    await db.execute(
        "INSERT INTO mailings_sender (org_id, name, address, created_at, updated_at) "
        "VALUES ({}, 'KV Leipzig', 'kv@example.org', {}, {})",
        unit["org"]["id"],
        utcnow(),
        utcnow(),
    )
    broken = await client.post(
        f"{_pages(unit)}/new",
        data={"_csrf": token, "subject": "Demo", "body": "A\n{{ person.first_name }\n"},
    )
    assert broken.status_code == 422 and 'id="f-body-error"' in broken.text
    assert "line 2" in broken.text
    saved = await client.post(
        f"{_pages(unit)}/new",
        data={
            "_csrf": token,
            "subject": "Demo am Samstag",
            "body": "{{ person.salutation }}, komm!",
            "audience": "all",
            "audience.0": "org",
            "audience.0.org_id": str(unit["org"]["id"]),
        },
    )
    assert saved.status_code == 303, saved.text
    row = await db.fetch_one("SELECT id, subject, audience, sender_address FROM mailings_mailing")
    assert row["subject"] == "Demo am Samstag" and row["sender_address"] == "kv@example.org"
    assert saved.headers["location"] == f"{_pages(unit)}/{row['id']}"
    assert db.json_value(row["audience"])
    audit = await db.fetch("SELECT action FROM audit_log WHERE action LIKE 'mailings.%'")
    assert {"action": "mailings.created"} in audit


async def test_other_units_mailing_is_404_and_permissions_hold(client, factory, unit):
    mailing = await _draft(client, unit)
    other = await factory.org("KV Dresden")
    await factory.enable(other["id"], "mailings")
    stranger = await factory.user("admin", other["id"])
    await console_login(client, stranger.email)
    there = f"/app/orgs/{other['id']}/mailings/{mailing['id']}"
    for path in ("", "/stats", "/send", "/preview"):
        assert (await client.get(there + path)).status_code == 404, path
    caller = await factory.user("caller", unit["org"]["id"])
    client.cookies.clear()
    await console_login(client, caller.email)
    start = await client.get(f"/app/orgs/{unit['org']['id']}")
    assert f'href="{_pages(unit)}"' not in start.text
    assert (await client.get(_pages(unit))).status_code in (403, 404)
    client.cookies.clear()
    await console_login(client, unit["organizer"].email)
    page = await client.get(f"{_pages(unit)}/{mailing['id']}")
    assert page.status_code == 200
    assert (await client.get(f"{_pages(unit)}/{mailing['id']}/send")).status_code == 403
    sent = await client.post(
        f"{_pages(unit)}/{mailing['id']}/send",
        data={"_csrf": csrf_of(page.text), "confirm": "yes"},
    )
    assert sent.status_code == 403


async def test_preview_for_a_chosen_recipient_and_of_unsaved_text(client, factory, unit):
    org_id = unit["org"]["id"]
    jurgen = await factory.person(org_id, first_name="Jürgen", email="j@example.org")
    await db.execute(
        "UPDATE person SET custom_fields = {} WHERE id = {}", '{"gender": "m"}', jurgen["id"]
    )
    await grant([jurgen["id"]])
    mailing = await _draft(client, unit)
    await console_login(client, unit["organizer"].email)
    base = f"{_pages(unit)}/{mailing['id']}"
    sample = await client.get(base)
    assert "Liebe Erika" in sample.text and "Hallo Erika" in sample.text
    assert f'<option value="{jurgen["id"]}"' in sample.text
    chosen = await client.get(f"{base}/preview", params={"person": str(jurgen["id"])})
    assert chosen.status_code == 200
    assert "Lieber Jürgen" in chosen.text and "Hallo Jürgen" in chosen.text
    assert "<strong>Demo</strong>" in chosen.text
    audit = await db.fetch(
        "SELECT object_id FROM audit_log WHERE action = 'mailings.previewed' AND org_id = {}",
        org_id,
    )
    assert audit == [{"object_id": jurgen["id"]}]
    live = await client.post(
        f"{base}/preview",
        data={"subject": "Neu", "body": "Tschüss {{ person.first_name }}", "person": jurgen["id"]},
        headers={"X-CSRF-Token": csrf_of(sample.text)},
    )
    assert live.status_code == 200 and "<html" not in live.text
    assert "Tschüss Jürgen" in live.text and "Neu" in live.text
    broken = await client.post(
        f"{base}/preview",
        data={"subject": "Neu", "body": "Tschüss {{ person.shoe_size }}"},
        headers={"X-CSRF-Token": csrf_of(sample.text)},
    )
    assert broken.status_code == 422 and "shoe_size" in broken.text
    stranger = await factory.person((await factory.org("KV Dresden"))["id"], first_name="Zoe")
    other = await client.get(f"{base}/preview", params={"person": str(stranger["id"])})
    assert other.status_code == 422 and "Zoe" not in other.text
    row = await db.fetch_one("SELECT body FROM mailings_mailing WHERE id = {}", mailing["id"])
    assert "Tschüss" not in row["body"]  # the live preview saves nothing


async def test_the_breakdown_counts_who_will_not_receive_it_and_why(client, factory, unit):
    org_id = unit["org"]["id"]
    await add_people(org_id, 3)
    await factory.person(org_id, email=None)
    await factory.person(org_id, email="dnc@example.org", do_not_contact=True)
    await factory.person(org_id, email="nc@example.org")
    bouncing = await factory.person(org_id, email="bounce1@example.org")
    await grant([bouncing["id"]])
    await db.execute(
        "INSERT INTO mail_suppression (email, reason, created_at, updated_at) "
        "VALUES ('bounce1@example.org', '550 no such user', {}, {})",
        utcnow(),
        utcnow(),
    )
    mailing = await _draft(client, unit)
    await console_login(client, unit["organizer"].email)
    page = await client.get(f"{_pages(unit)}/{mailing['id']}")
    text = re.sub(r"\s+", " ", page.text)
    assert "3 Personen bekommen sie." in text
    for label in ("Nicht kontaktieren", "Keine E-Mail-Adresse", "Keine Einwilligung in E-Mails"):
        assert re.search(label + r"</th> ?<td class=\"num\">1</td>", text), label
    assert re.search(r"gebounct\)</th> ?<td class=\"num\">1</td>", text)


async def test_send_after_confirming_the_count_then_pause_resume_cancel(client, unit):
    await add_people(unit["org"]["id"], 3)
    mailing = await _draft(client, unit)
    base = f"{_pages(unit)}/{mailing['id']}"
    await console_login(client, unit["admin"].email)
    confirm = await client.get(f"{base}/send")
    assert confirm.status_code == 200
    assert "geht an 3 Personen" in confirm.text
    assert 'name="confirm_count" value="3"' in confirm.text
    unticked = await client.post(
        f"{base}/send", data={"_csrf": csrf_of(confirm.text), "confirm_count": "3"}
    )
    assert unticked.status_code == 422 and 'id="f-confirm-error"' in unticked.text
    await add_people(unit["org"]["id"], 1, start=10)
    stale = await client.post(
        f"{base}/send",
        data={"_csrf": csrf_of(confirm.text), "confirm": "yes", "confirm_count": "3"},
    )
    assert stale.status_code == 422 and "geht an 4 Personen" in stale.text
    sent = await client.post(
        f"{base}/send",
        data={"_csrf": csrf_of(stale.text), "confirm": "yes", "confirm_count": "4"},
    )
    assert sent.status_code == 303
    assert (await db.fetch_one("SELECT state, total FROM mailings_mailing"))["total"] == 4
    page = await client.get(base)
    assert "Wird gesendet" in page.text and "/pause" in page.text
    token = csrf_of(page.text)
    assert (await client.post(f"{base}/pause", data={"_csrf": token})).status_code == 303
    assert (await db.fetch_one("SELECT state FROM mailings_mailing"))["state"] == "paused"
    again = await client.post(f"{base}/pause", data={"_csrf": token})
    assert again.status_code == 303  # shown as a message, nothing changes
    assert (await client.post(f"{base}/resume", data={"_csrf": token})).status_code == 303
    assert (await db.fetch_one("SELECT state FROM mailings_mailing"))["state"] == "sending"
    assert (await client.post(f"{base}/cancel", data={"_csrf": token})).status_code == 303
    assert (await db.fetch_one("SELECT state FROM mailings_mailing"))["state"] == "cancelled"
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE object_type = 'mailing' ORDER BY id"
    )
    assert [a["action"] for a in actions][-4:] == [
        "mailings.sent",
        "mailings.paused",
        "mailings.resumed",
        "mailings.cancelled",
    ]


async def test_statistics_and_the_web_version_without_personal_data(client, unit, app, smtp_sink):
    ids = await add_people(unit["org"]["id"], 3)
    await db.execute(
        "UPDATE person SET first_name = 'Geheimname', email = 'bounce-x@example.org' WHERE id = {}",
        ids[0],
    )
    mailing = await _draft(client, unit)
    sent = await client.post(
        f"{unit['base']}/{mailing['id']}/send",
        json={"confirm": True},
        headers=unit["admin"].headers,
    )
    assert sent.status_code == 202, sent.text
    await drain(app)
    await console_login(client, unit["organizer"].email)
    stats = await client.get(f"{_pages(unit)}/{mailing['id']}/stats")
    assert stats.status_code == 200
    figures = dict(re.findall(r'id="fig-(\w+)">([^<]*)<', stats.text))
    assert figures == {"sent": "3", "delivered": "2", "bounced": "1", "unsubscribed": "0"}
    assert 'id="chart-time"' in stats.text and "<table>" in stats.text
    api = await client.get(
        f"{unit['base']}/{mailing['id']}/timeline", headers=unit["admin"].headers
    )
    [point] = api.json()
    assert (point["delivered"], point["bounced"], point["opened"]) == (2, 1, None)
    message = smtp_sink.messages[0]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://testserver\.local(/p/mailings/web/\S+)", text).group(1)
    web = await client.get(link)
    assert web.status_code == 200
    assert "komm zur <strong>Demo</strong> in KV Leipzig" in web.text and "Hallo" in web.text
    for private in ("P1", "P2", "Geheimname", "@example.org", "unsubscribe"):
        assert private not in web.text, private
    forged = await client.get(link[:-3] + "abc")
    assert forged.status_code == 404
    draft_link = link.replace(
        link.split("/")[-1], (await _web_token(app, (await _draft(client, unit))["id"]))
    )
    assert (await client.get(draft_link)).status_code == 404  # never sent


async def _web_token(app, mailing_id: int) -> str:
    from core.context import set_runtime
    from core.signing import sign

    set_runtime(app.state.orga)
    return sign("mailings.web", mailing_id)


async def test_the_suppression_list_of_the_unit_search_and_remove_with_audit(client, factory, unit):
    org_id = unit["org"]["id"]
    await factory.person(org_id, email="bounce-a@example.org")
    await factory.person(org_id, email="bounce-b@example.org")
    elsewhere = await factory.org("KV Dresden")
    await factory.person(elsewhere["id"], email="bounce-z@example.org")
    for email in ("bounce-a@example.org", "bounce-b@example.org", "bounce-z@example.org"):
        await db.execute(
            "INSERT INTO mail_suppression (email, reason, created_at, updated_at) "
            "VALUES ({}, '550 gone', {}, {})",
            email,
            utcnow(),
            utcnow(),
        )
    await console_login(client, unit["organizer"].email)
    page = await client.get(f"{_pages(unit)}/suppressions")
    assert "bounce-a@" in page.text and "bounce-b@" in page.text
    assert "bounce-z@" not in page.text and "/remove" not in page.text  # organizer: no send
    found = await client.get(f"{_pages(unit)}/suppressions", params={"q": "-B@"})
    assert "bounce-b@" in found.text and "bounce-a@" not in found.text
    z = await db.fetch_one("SELECT id FROM mail_suppression WHERE email = 'bounce-z@example.org'")
    b = await db.fetch_one("SELECT id FROM mail_suppression WHERE email = 'bounce-b@example.org'")
    client.cookies.clear()
    await console_login(client, unit["admin"].email)
    page = await client.get(f"{_pages(unit)}/suppressions")
    token = csrf_of(page.text)
    other = await client.post(
        f"{_pages(unit)}/suppressions/{z['id']}/remove", data={"_csrf": token}
    )
    assert other.status_code == 404
    removed = await client.post(
        f"{_pages(unit)}/suppressions/{b['id']}/remove", data={"_csrf": token}
    )
    assert removed.status_code == 303
    left = await db.fetch("SELECT email FROM mail_suppression ORDER BY email")
    assert [r["email"] for r in left] == ["bounce-a@example.org", "bounce-z@example.org"]
    audit = await db.fetch(
        "SELECT org_id, object_id, user_id FROM audit_log "
        "WHERE action = 'mailings.suppression_removed'"
    )
    assert audit == [{"org_id": org_id, "object_id": b["id"], "user_id": unit["admin"].id}]


async def test_the_suppression_list_api_refuses_a_bad_limit_or_cursor(client, unit):
    """A limit outside 1..500 or a foreign cursor is a 422 naming the parameter, not a 500
    (found by the API fuzzer)."""
    url = f"/api/orgs/{unit['org']['id']}/mailings/suppressions"
    headers = unit["admin"].headers
    assert (await client.get(url, headers=headers)).status_code == 200
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": -3}, "limit"),
        ({"cursor": "x"}, "cursor"),
    ):
        answer = await client.get(url, params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text
