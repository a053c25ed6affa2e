"""Mailings end to end through the HTTP API, the job worker and a real SMTP server."""

from __future__ import annotations

import asyncio
import base64
import re
import time

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core import db
from tests.etags import two_organizers
from tests.plugins.mailings.conftest import add_people, draft, drain, grant


async def create(client, unit, **extra):
    response = await client.post(
        unit["base"] + "/", json=draft(unit["org"]["id"], **extra), headers=unit["admin"].headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def send(client, unit, mailing_id, **body):
    return await client.post(
        f"{unit['base']}/{mailing_id}/send",
        json={"confirm": True, **body},
        headers=unit["admin"].headers,
    )


def unsubscribe_path(message) -> str:
    url = message["List-Unsubscribe"].split(",")[0].strip("<> ")
    return url.removeprefix("http://testserver.local")


async def test_crud_and_other_units_mailing_is_404(client, factory, unit):
    mailing = await create(client, unit)
    assert mailing["state"] == "draft" and mailing["stats"]["recipients"] == 0
    changed = await client.patch(
        f"{unit['base']}/{mailing['id']}",
        json={"subject": "Neu"},
        headers=unit["organizer"].headers,
    )
    assert changed.json()["subject"] == "Neu"
    listed = await client.get(unit["base"] + "/", headers=unit["organizer"].headers)
    assert [m["id"] for m in listed.json()["items"]] == [mailing["id"]]
    other = await factory.org("KV Dresden")
    await factory.enable(other["id"], "mailings")
    stranger = await factory.user("admin", other["id"])
    response = await client.get(
        f"/api/orgs/{other['id']}/mailings/{mailing['id']}", headers=stranger.headers
    )
    assert response.status_code == 404
    deleted = await client.delete(
        f"{unit['base']}/{mailing['id']}", headers=unit["organizer"].headers
    )
    assert deleted.status_code == 204


async def test_template_syntax_error_is_rejected_with_line(client, unit):
    response = await client.post(
        unit["base"] + "/",
        json=draft(unit["org"]["id"], body="Hallo\n\nDu {{ person.first_name }\nEnde\n"),
        headers=unit["admin"].headers,
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body" and error["message"].startswith("line 3:")


async def test_preview_personalizes_and_reports_runtime_errors_with_line(client, unit, factory):
    person = await factory.person(unit["org"]["id"], first_name="Jürgen", email="j@example.org")
    mailing = await create(client, unit)
    response = await client.post(
        f"{unit['base']}/{mailing['id']}/preview",
        json={"person_id": person["id"]},
        headers=unit["organizer"].headers,
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["subject"] == "Hallo Jürgen: Mietendemo am Samstag"
    assert "Liebe:r **Jürgen**" in preview["text"]
    assert "<strong>Jürgen</strong>" in preview["html"]
    assert "KV Leipzig" in preview["text"] and "https://example.org/demo" in preview["html"]
    broken = await client.patch(
        f"{unit['base']}/{mailing['id']}",
        json={"body": "Hallo\n{{ person.first_name }}\n{{ person.shoe_size }}\n"},
        headers=unit["organizer"].headers,
    )
    assert broken.status_code == 200
    for path, body in (("preview", {"person_id": person["id"]}), ("test", {"email": "t@x.org"})):
        response = await client.post(
            f"{unit['base']}/{mailing['id']}/{path}", json=body, headers=unit["organizer"].headers
        )
        assert response.status_code == 422, path
        [error] = response.json()["errors"]
        assert error["field"] == "body" and error["message"].startswith("line 3:")
        assert "shoe_size" in error["message"]


async def test_audience_breakdown_counts_each_reason(client, unit, factory):
    org_id = unit["org"]["id"]
    await add_people(org_id, 3)  # will receive
    await factory.person(org_id, email=None)  # no e-mail
    await factory.person(org_id, email="dnc@example.org", do_not_contact=True)
    no_consent = await factory.person(org_id, email="nc@example.org")
    gone = await factory.person(org_id, email="gone@example.org")
    await grant([gone["id"]])
    await grant([gone["id"]], status="withdrawn", purpose=f"mailings:{org_id}")
    bouncing = await factory.person(org_id, email="bounce1@example.org")
    await grant([bouncing["id"]])
    await db.execute(
        "INSERT INTO mail_suppression (email, reason, created_at, updated_at) "
        "VALUES ('bounce1@example.org', '550', {}, {})",
        no_consent["created_at"],
        no_consent["created_at"],
    )
    mailing = await create(client, unit)
    response = await client.get(
        f"{unit['base']}/{mailing['id']}/audience", headers=unit["organizer"].headers
    )
    assert response.json() == {
        "total": 8,
        "will_receive": 3,
        "do_not_contact": 1,
        "no_email": 1,
        "bouncing": 1,
        "unsubscribed": 1,
        "no_consent": 1,
    }


async def test_sending_needs_permission_and_second_confirmation(client, unit, orga_settings, app):
    await add_people(unit["org"]["id"], 5)
    mailing = await create(client, unit)
    url = f"{unit['base']}/{mailing['id']}/send"
    forbidden = await client.post(url, json={"confirm": True}, headers=unit["organizer"].headers)
    assert forbidden.status_code == 403
    unconfirmed = await client.post(url, json={}, headers=unit["admin"].headers)
    assert unconfirmed.status_code == 422
    from msgspec import structs

    settings = app.state.orga.settings
    app.state.orga.settings = structs.replace(
        settings, module_config={"mailings": {"confirm_threshold": 3}}
    )
    try:
        once = await send(client, unit, mailing["id"])
        assert once.status_code == 422
        assert once.json()["errors"][0]["field"] == "confirm_count"
        assert "5 people" in once.json()["errors"][0]["message"]
        wrong = await send(client, unit, mailing["id"], confirm_count=4)
        assert wrong.status_code == 422
        twice = await send(client, unit, mailing["id"], confirm_count=5)
        assert twice.status_code == 202, twice.text
    finally:
        app.state.orga.settings = settings
    assert twice.json()["state"] == "sending" and twice.json()["stats"]["queued"] == 5
    again = await send(client, unit, mailing["id"])
    assert again.status_code == 409


async def test_sent_mails_carry_rfc8058_headers_dkim_both_parts_and_personal_text(
    client, unit, app, smtp_sink, tmp_path
):
    ids = await add_people(unit["org"]["id"], 3)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    from core.mail.dkim import DkimSigner

    app.state.orga.mailer.signer = DkimSigner("orga2026", "example.org", str(key_file))
    mailing = await create(client, unit)
    assert (await send(client, unit, mailing["id"])).status_code == 202
    await drain(app)
    assert len(smtp_sink.messages) == 3
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def dns(name, timeout=5):
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    by_address = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.messages}
    for n, raw in enumerate(smtp_sink.raw):
        assert dkim.verify(raw, dnsfunc=dns), n
        signed = raw.split(b"\r\n\r\n")[0].split(b"h=")[1].split(b";")[0].replace(b" ", b"")
        assert b"list-unsubscribe" in signed.lower()
    index = ids.index(ids[1])
    message = by_address[f"p{index}@example.org"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.match(
        r"<http://testserver\.local/p/mailings/unsubscribe/[\w.-]+>$", message["List-Unsubscribe"]
    )
    assert message["Subject"] == f"Hallo P{index}: Mietendemo am Samstag"
    assert message["From"].addresses[0].display_name == "Die Linke Leipzig"
    assert message["Reply-To"].addresses[0].addr_spec == "fragen@example.org"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Liebe:r **P{index}**" in text and f"<strong>P{index}</strong>" in html
    assert "Ich komme: https://example.org/demo" in text
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe in text and unsubscribe in html  # the visible link
    got = await client.get(f"{unit['base']}/{mailing['id']}", headers=unit["admin"].headers)
    assert got.json()["state"] == "sent"
    stats = got.json()["stats"]
    assert stats["delivered"] == 3 and stats["sent"] == 3 and stats["opened"] is None


async def test_one_click_post_unsubscribes_and_get_does_not(client, unit, app, smtp_sink):
    org_id = unit["org"]["id"]
    await add_people(org_id, 2)
    mailing = await create(client, unit)
    await send(client, unit, mailing["id"])
    await drain(app)
    first, second = sorted(smtp_sink.messages, key=lambda m: str(m["To"]))
    path = unsubscribe_path(first)
    page = await client.get(path)
    assert page.status_code == 200 and 'method="post"' in page.text
    audience_url = f"{unit['base']}/{mailing['id']}/audience"
    headers = unit["admin"].headers
    assert (await client.get(audience_url, headers=headers)).json()["will_receive"] == 2
    # RFC 8058: no cookies, no login, just the POST body
    one_click = await client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    counts = (await client.get(audience_url, headers=headers)).json()
    assert counts["will_receive"] == 1 and counts["unsubscribed"] == 1
    consent = await db.fetch(
        "SELECT purpose, status, source, reference FROM consent_event WHERE status = 'withdrawn'"
    )
    assert consent == [
        {
            "purpose": f"mailings:{org_id}",
            "status": "withdrawn",
            "source": "mailings-one-click",
            "reference": f"mailing:{mailing['id']}",
        }
    ]
    # mail clients may send the one-click body as multipart/form-data too (RFC 8058)
    again = await client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert again.status_code == 200
    assert (await client.get(audience_url, headers=headers)).json()["unsubscribed"] == 1
    sources = await db.fetch("SELECT source FROM consent_event WHERE status = 'withdrawn'")
    assert sources == [{"source": "mailings-one-click"}] * 2
    # the form's "all mailings" withdraws general e-mail consent
    everything = await client.post(unsubscribe_path(second), data={"scope": "all"})
    assert everything.status_code == 200
    assert "keine Mailings mehr" in everything.text
    counts = (await client.get(audience_url, headers=headers)).json()
    assert counts["will_receive"] == 0 and counts["unsubscribed"] == 2
    stats = (await client.get(f"{unit['base']}/{mailing['id']}", headers=headers)).json()
    assert stats["stats"]["unsubscribed"] == 2
    forged = await client.post(path[:-3] + "abc", data={"scope": "all"})
    assert forged.status_code == 404


async def test_unsubscribe_during_a_send_is_honoured(client, unit, app, smtp_sink):
    ids = await add_people(unit["org"]["id"], 3)
    mailing = await create(client, unit)
    await send(client, unit, mailing["id"])
    await grant([ids[0]], status="withdrawn")  # after the freeze, before delivery
    await drain(app)
    assert len(smtp_sink.messages) == 2
    stats = (
        await client.get(f"{unit['base']}/{mailing['id']}", headers=unit["admin"].headers)
    ).json()["stats"]
    assert stats["skipped"] == 1 and stats["delivered"] == 2


async def test_bounces_are_counted(client, unit, app, factory, smtp_sink):
    await add_people(unit["org"]["id"], 2)
    person = await factory.person(unit["org"]["id"], email="bounce-me@example.org")
    await grant([person["id"]])
    mailing = await create(client, unit)
    await send(client, unit, mailing["id"])
    await drain(app)
    stats = (
        await client.get(f"{unit['base']}/{mailing['id']}", headers=unit["admin"].headers)
    ).json()["stats"]
    assert stats == {**stats, "sent": 3, "delivered": 2, "bounced": 1, "queued": 0}
    suppressed = await db.fetch("SELECT email FROM mail_suppression")
    assert suppressed == [{"email": "bounce-me@example.org"}]


async def test_pause_resume_and_cancel(client, unit, app, smtp_sink):
    await add_people(unit["org"]["id"], 20)
    mailing = await create(client, unit)
    base = f"{unit['base']}/{mailing['id']}"
    headers = unit["admin"].headers
    await send(client, unit, mailing["id"])
    paused = await client.post(f"{base}/pause", headers=headers)
    assert paused.json()["state"] == "paused"
    await drain(app)
    assert smtp_sink.raw == []
    held = (await client.get(base, headers=headers)).json()["stats"]
    assert held["held"] == 20
    resumed = await client.post(f"{base}/resume", headers=headers)
    assert resumed.json()["state"] == "sending"
    await drain(app)
    assert len(smtp_sink.raw) == 20
    done = (await client.get(base, headers=headers)).json()
    assert done["state"] == "sent" and done["stats"]["delivered"] == 20
    assert (await client.post(f"{base}/cancel", headers=headers)).status_code == 409
    second = await create(client, unit)
    await send(client, unit, second["id"])
    cancelled = await client.post(f"{unit['base']}/{second['id']}/cancel", headers=headers)
    assert cancelled.json()["state"] == "cancelled"
    await drain(app)
    assert len(smtp_sink.raw) == 20
    assert cancelled.json()["stats"]["cancelled"] == 20


async def test_test_mail_is_delivered_with_sample_data(client, unit, app, smtp_sink):
    mailing = await create(client, unit)
    response = await client.post(
        f"{unit['base']}/{mailing['id']}/test",
        json={"email": "pruefer@example.org"},
        headers=unit["organizer"].headers,
    )
    assert response.status_code == 202
    await drain(app)
    [message] = smtp_sink.messages
    assert message["Subject"] == "[Test] Hallo Erika: Mietendemo am Samstag"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page = await client.get(unsubscribe_path(message))
    assert page.status_code == 404  # a test mail's link unsubscribes nobody


async def test_scheduled_send_starts_at_its_time(client, unit, app, smtp_sink):
    from datetime import timedelta

    from core.tables import utcnow

    await add_people(unit["org"]["id"], 2)
    later = (utcnow() + timedelta(hours=1)).isoformat()
    mailing = await create(client, unit, scheduled_at=later)
    response = await send(client, unit, mailing["id"])
    assert response.json()["state"] == "scheduled"
    url = f"{unit['base']}/{mailing['id']}"
    typo = await client.patch(url, json={"subject": "Korrigiert"}, headers=unit["admin"].headers)
    assert typo.status_code == 200
    widen = await client.patch(
        url, json={"audience": {"filters": [{"type": "has_email"}]}}, headers=unit["admin"].headers
    )
    assert widen.status_code == 409  # confirmed with this audience
    assert await drain(app) == 0
    await db.execute("UPDATE job SET run_at = {} WHERE kind = 'mailings.start'", utcnow())
    await drain(app)
    assert len(smtp_sink.raw) == 2


async def test_sender_identity_of_the_unit_is_inherited_and_used(client, unit, factory):
    base = unit["base"]
    headers = unit["admin"].headers
    assert (await client.get(f"{base}/sender", headers=headers)).status_code == 404
    body = draft(unit["org"]["id"])
    del body["sender_name"], body["sender_address"], body["reply_to"]
    missing = await client.post(base + "/", json=body, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "sender_address"
    identity = {"name": "Die Linke Sachsen", "address": "sachsen@example.org"}
    forbidden = await client.put(f"{base}/sender", json=identity, headers=unit["organizer"].headers)
    assert forbidden.status_code == 403
    assert (await client.put(f"{base}/sender", json=identity, headers=headers)).status_code == 200
    local = await factory.org("OV Connewitz", kind="local", parent=unit["org"]["id"])
    await factory.enable(local["id"], "mailings")
    local_base = f"/api/orgs/{local['id']}/mailings"
    inherited = await client.get(f"{local_base}/sender", headers=headers)
    assert inherited.json() == {"org_id": unit["org"]["id"], "reply_to": None, **identity}
    created = await client.post(local_base + "/", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["sender_name"] == "Die Linke Sachsen"
    assert created.json()["sender_address"] == "sachsen@example.org"


async def test_pause_during_a_running_send_then_resume_delivers_each_once(
    client, unit, app, smtp_sink
):
    import asyncio
    from collections import Counter

    from core.jobs.worker import Worker

    await add_people(unit["org"]["id"], 300)
    mailing = await create(client, unit)
    base = f"{unit['base']}/{mailing['id']}"
    headers = unit["admin"].headers
    await send(client, unit, mailing["id"])
    worker = Worker(app.state.orga.job_handlers(), concurrency=4)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    while len(smtp_sink.raw) < 30:
        await asyncio.sleep(0.005)
    paused = await client.post(f"{base}/pause", headers=headers)
    assert paused.json()["state"] == "paused"
    while worker.running or await db.fetch_one(
        "SELECT id FROM job WHERE status IN ('queued', 'running') LIMIT 1"
    ):
        await asyncio.sleep(0.05)
    stop.set()
    await task
    during = len(smtp_sink.raw)
    assert during < 300
    stats = (await client.get(base, headers=headers)).json()["stats"]
    assert stats["held"] == 300 - during and stats["queued"] == 0
    await client.post(f"{base}/resume", headers=headers)
    await drain(app)
    addresses = Counter(m["To"].addresses[0].addr_spec for m in smtp_sink.messages)
    assert len(addresses) == 300 and set(addresses.values()) == {1}
    done = (await client.get(base, headers=headers)).json()
    assert done["state"] == "sent" and done["stats"]["delivered"] == 300


FAN_OUT = "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(19) }}"


async def test_hostile_templates_are_a_422_and_never_stall_other_requests(client, unit, factory):
    """``{{ 7 ** 15000000 }}`` froze every request for 16 s (folded while compiling), nested
    loops for 10 s. Now saving compiles in the template threads, a preview stops at a limit
    with the reason, and while a render uses its whole time budget other requests answer."""
    person = await factory.person(unit["org"]["id"], first_name="Jürgen", email="j@example.org")
    mailing = await create(client, unit)
    url = f"{unit['base']}/{mailing['id']}"
    headers = unit["organizer"].headers

    async def preview_of(body: str):
        saved = await client.patch(url, json={"body": body}, headers=headers)
        assert saved.status_code == 200, saved.text
        return await client.post(
            f"{url}/preview", json={"person_id": person["id"]}, headers=headers
        )

    loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    for body, reason in (
        ("{{ 7 ** 15000000 }}", "beyond 4096 bits"),
        ("Hallo\n{{ (9999999**9999)|string }}", "line 2: a number beyond 4096 bits"),
        (loops, "loop iterations"),
    ):
        started = time.monotonic()
        response = await preview_of(body)
        assert time.monotonic() - started < 3
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "body" and reason in error["message"]

    saved = await client.patch(url, json={"body": FAN_OUT}, headers=headers)
    assert saved.status_code == 200
    hostile = asyncio.create_task(
        client.post(f"{url}/preview", json={"person_id": person["id"]}, headers=headers)
    )
    started = time.monotonic()
    await asyncio.sleep(0.3)  # the hostile render is under way (in a template thread)
    health = await client.get("/api/health")
    assert health.status_code == 200
    assert time.monotonic() - started < 1.3  # the sleep, then an answer in under a second
    assert not hostile.done()  # the hostile render was still running meanwhile
    response = await hostile
    assert response.status_code == 422
    assert "took longer than 2 s" in response.json()["errors"][0]["message"]


async def test_two_organizers_cannot_overwrite_each_others_draft_change(client, unit):
    """Both read the draft; the second PATCH with the ETag read is a 412."""
    mailing = await create(client, unit)
    after = await two_organizers(
        client,
        f"{unit['base']}/{mailing['id']}",
        (unit["organizer"], {"subject": "Mietendemo: neuer Treffpunkt"}),
        (unit["admin"], {"subject": "Mietendemo fällt aus", "cta_label": "Absagen"}),
    )
    assert after["subject"] == "Mietendemo: neuer Treffpunkt"
    assert after["cta_label"] == "Ich komme"
