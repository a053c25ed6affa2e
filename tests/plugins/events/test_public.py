"""Public pages over HTTP: lists, event page, sign-up with consent proof, honeypot, rate
limit, confirmation mail, personal cancel link."""

from __future__ import annotations

import re

import pytest

from core import db
from core.jobs.worker import Worker
from tests.pages import assert_errors_in
from tests.plugins.events.conftest import create


@pytest.fixture
def orga_overrides(smtp_sink):
    return {
        "smtp_url": smtp_sink.url,
        "mail_from": "KV Leipzig <kv@example.org>",
        "module_config": {"events": {"signup_limit": 3, "public_list_limit": 2}},
    }


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English pages and mails (the deployment default is German)."""
    client.headers["accept-language"] = "en"


async def drain(app) -> int:
    return await Worker(app.state.orga.job_handlers(), concurrency=2).drain()


FORM = {
    "first_name": "Rosa",
    "last_name": "Luxemburg",
    "email": "rosa@example.org",
    "phone": "",
    "consent": "yes",
    "website": "",
}


async def test_list_shows_only_public_published_upcoming_events(client, setup, factory):
    shown = await create(client, setup, title="Infostand Markt")
    await create(client, setup, title="Intern", visibility="internal")
    await create(client, setup, title="Mitglieder", visibility="members")
    await create(client, setup, title="Entwurf", state="draft")
    cancelled = await create(client, setup, title="Abgesagt")
    await client.patch(
        f"{setup.base}/{cancelled['id']}",
        json={"state": "cancelled"},
        headers=setup.organizer.headers,
    )
    child = await factory.org("OV Connewitz", parent=setup.org["id"])
    child_setup = type(setup)(child, setup.organizer, f"/api/orgs/{child['id']}/events")
    await create(client, child_setup, title="Verteilaktion Connewitz")
    page = await client.get(f"/p/events/{setup.org['id']}", headers={"accept-language": "de"})
    assert page.status_code == 200
    assert 'lang="de"' in page.text
    assert (
        "Infostand Markt" in page.text and f"/p/events/{setup.org['id']}/{shown['id']}" in page.text
    )
    for hidden in ("Intern", "Mitglieder", "Entwurf", "Abgesagt", "Verteilaktion"):
        assert hidden not in page.text
    with_subtree = await client.get(f"/p/events/{setup.org['id']}", params={"subtree": "true"})
    assert "Verteilaktion Connewitz" in with_subtree.text
    assert "script-src 'none'" in page.headers["content-security-policy"]


async def test_hidden_events_and_units_without_the_module_are_404(client, setup, factory):
    internal = await create(client, setup, visibility="internal")
    draft = await create(client, setup, state="draft")
    for event in (internal, draft):
        page = await client.get(f"/p/events/{setup.org['id']}/{event['id']}")
        assert page.status_code == 404
    other = await factory.org("KV ohne Modul")
    assert (await client.get(f"/p/events/{other['id']}")).status_code == 404
    shown = await create(client, setup)
    wrong_unit = await client.get(f"/p/events/{other['id']}/{shown['id']}")
    assert wrong_unit.status_code == 404


async def test_sign_up_confirm_and_cancel_over_http(client, setup, app, smtp_sink):
    event = await create(client, setup, capacity=10)
    page = await client.get(f"/p/events/{setup.org['id']}/{event['id']}")
    assert 'name="consent"' in page.text and 'name="website"' in page.text
    assert "10 places left" in page.text
    posted = await client.post(f"/p/events/{setup.org['id']}/{event['id']}/signup", data=FORM)
    assert posted.status_code == 200, posted.text
    assert "sent you an e-mail" in posted.text
    person = await db.fetch_one("SELECT id, source FROM person WHERE email = 'rosa@example.org'")
    assert person["source"] == "event"
    consent = await db.fetch_one(
        "SELECT status, wording, reference, purpose FROM consent_event WHERE person_id = {}",
        person["id"],
    )
    assert consent["status"] == "pending" and consent["purpose"] == "events"
    assert "KV Leipzig" in consent["wording"] and consent["reference"] == f"event:{event['id']}"
    assert consent["wording"] in page.text  # the stored wording is the one shown
    audit = await db.fetch_one("SELECT action FROM audit_log WHERE action = 'events.public_signup'")
    assert audit is not None
    await drain(app)
    [mail] = smtp_sink.messages
    body = mail.get_body(("plain",)).get_content()
    confirm_link = re.search(r"http://testserver\.local(/p/events/\S+/confirm/\S+)", body).group(1)
    cancel_link = re.search(r"http://testserver\.local(/p/events/\S+/cancel/\S+)", body).group(1)
    confirmed = await client.get(confirm_link)
    assert confirmed.status_code == 200 and "confirmed" in confirmed.text
    row = await db.fetch_one(
        "SELECT status, confirmed_at, source FROM events_participation WHERE person_id = {}",
        person["id"],
    )
    assert row["confirmed_at"] is not None and row["source"] == "public"
    granted = await db.fetch_one(
        "SELECT purpose FROM consent_event WHERE person_id = {} AND status = 'granted'",
        person["id"],
    )
    assert granted == {"purpose": "events"}  # the address is proved: its consent counts
    ask = await client.get(cancel_link)
    assert ask.status_code == 200 and "<form" in ask.text
    still = await db.fetch_one(
        "SELECT status FROM events_participation WHERE person_id = {}", person["id"]
    )
    assert still["status"] == "signed_up"  # GET changes nothing (link scanners)
    done = await client.post(cancel_link)
    assert done.status_code == 200
    after = await db.fetch_one(
        "SELECT status FROM events_participation WHERE person_id = {}", person["id"]
    )
    assert after["status"] == "cancelled"
    forged = cancel_link[:-3] + ("AAA" if not cancel_link.endswith("AAA") else "BBB")
    assert (await client.post(forged)).status_code == 404
    confirm_as_cancel = cancel_link.replace("/cancel/", "/confirm/")
    assert (await client.get(confirm_as_cancel)).status_code == 404


async def test_a_sign_up_with_a_members_address_waits_for_its_owner(
    client, setup, app, smtp_sink, factory
):
    """Issue #21, item 1: the form never touches the member's record; the owner of the
    address confirms, and only then is the sign-up theirs."""
    event = await create(client, setup, capacity=10)
    member = await factory.person(
        setup.org["id"], email="rosa@example.org", phones=["+4934199999"], notes="geheim"
    )
    snapshot = "SELECT * FROM person WHERE id = {}"
    before = await db.fetch_one(snapshot, member["id"])
    url = f"/p/events/{setup.org['id']}/{event['id']}/signup"
    posted = await client.post(url, data=FORM | {"phone": "0341 99999", "first_name": "X"})
    assert posted.status_code == 200
    assert await db.fetch_one(snapshot, member["id"]) == before
    mine = "SELECT COUNT(*) AS n FROM {} WHERE person_id = {{}}"
    for table in ("consent_event", "events_participation"):
        assert (await db.fetch_one(mine.format(table), member["id"]))["n"] == 0
    await drain(app)
    [mail] = smtp_sink.messages
    assert mail["To"].endswith("<rosa@example.org>")  # only the owner of the address
    body = mail.get_body(("plain",)).get_content()
    confirm_link = re.search(r"http://testserver\.local(/p/events/\S+/confirm/\S+)", body)[1]
    cancel_link = re.search(r"http://testserver\.local(/p/events/\S+/cancel/\S+)", body)[1]
    assert (await client.get(confirm_link)).status_code == 200
    assert [r["id"] for r in await db.fetch("SELECT id FROM person")] == [member["id"]]
    participation = await db.fetch_one(
        "SELECT status, confirmed_at FROM events_participation WHERE person_id = {}", member["id"]
    )
    assert participation["confirmed_at"] is not None
    # the cancel link from the mail still works after the records became one
    assert (await client.post(cancel_link)).status_code == 200


async def test_form_errors_name_the_fields(client, setup):
    event = await create(client, setup)
    url = f"/p/events/{setup.org['id']}/{event['id']}/signup"
    bad = await client.post(url, data={**FORM, "first_name": "", "email": "", "consent": ""})
    assert bad.status_code == 422
    assert 'id="first_name_error"' in bad.text and 'id="consent_error"' in bad.text
    assert 'id="email_error"' in bad.text
    unreadable = await client.post(url, data={**FORM, "email": "not-an-address"})
    assert unreadable.status_code == 422 and 'id="email_error"' in unreadable.text
    assert await db.fetch("SELECT id FROM events_participation") == []


@pytest.mark.parametrize("locale", ["de", "sv"])
async def test_form_errors_are_in_the_pages_language(client, setup, locale):
    event = await create(client, setup)
    url = f"/p/events/{setup.org['id']}/{event['id']}/signup"
    client.headers["accept-language"] = locale
    empty = await client.post(url, data={**FORM, "first_name": "", "email": "", "consent": ""})
    assert len(assert_errors_in(empty.text, locale)) == 3
    # the address check is core's (an English sentence from email-validator) and the phone
    # error names a field the form does not have: both still reach the page in its language
    for bad in ({"email": "not-an-address"}, {"email": "", "phone": "kein Telefon"}):
        page = await client.post(url, data={**FORM, **bad})
        assert page.status_code == 422
        assert_errors_in(page.text, locale)


async def test_honeypot_looks_fine_but_stores_nothing(client, setup, app, smtp_sink):
    event = await create(client, setup)
    bot = await client.post(
        f"/p/events/{setup.org['id']}/{event['id']}/signup",
        data={**FORM, "website": "http://spam.example"},
    )
    assert bot.status_code == 200
    assert await db.fetch("SELECT id FROM person") == []
    await drain(app)
    assert smtp_sink.messages == []


async def test_rate_limit_per_address(client, setup):
    event = await create(client, setup)
    url = f"/p/events/{setup.org['id']}/{event['id']}/signup"
    statuses = [
        (await client.post(url, data={**FORM, "email": f"p{i}@example.org"})).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


async def test_full_event_puts_public_sign_ups_on_the_waiting_list(client, setup, app, smtp_sink):
    event = await create(client, setup, capacity=1)
    url = f"/p/events/{setup.org['id']}/{event['id']}/signup"
    await client.post(url, data=FORM)
    second = await client.post(
        url, data={**FORM, "email": "karl@example.org", "first_name": "Karl"}
    )
    assert "waiting list" in second.text
    await drain(app)
    karl = [m for m in smtp_sink.messages if "karl@" in str(m["To"])]
    assert "waiting list" in karl[0].get_body(("plain",)).get_content()


async def test_phone_only_sign_up_needs_no_mail(client, setup, app, smtp_sink):
    event = await create(client, setup)
    posted = await client.post(
        f"/p/events/{setup.org['id']}/{event['id']}/signup",
        data={**FORM, "email": "", "phone": "0341 1234567"},
    )
    assert posted.status_code == 200 and "will contact you" in posted.text
    row = await db.fetch_one("SELECT status FROM events_participation")
    assert row["status"] == "signed_up"
    await drain(app)
    assert smtp_sink.messages == []


async def test_list_pages_by_start_time(client, setup):
    from datetime import datetime, timedelta

    first = datetime.fromisoformat((await create(client, setup, title="Eins"))["start_at"])
    for days, title in ((2, "Drei"), (1, "Zwei")):
        start = first + timedelta(days=days)
        await create(
            client,
            setup,
            title=title,
            start_at=start.isoformat(),
            end_at=(start + timedelta(hours=1)).isoformat(),
        )
    page = await client.get(f"/p/events/{setup.org['id']}")
    assert page.text.index("Eins") < page.text.index("Zwei") and "Drei" not in page.text
    later = re.search(r'href="(/p/events/\d+\?cursor=[^"]+)" rel="next"', page.text).group(1)
    rest = await client.get(later.replace("&amp;", "&"))
    assert "Drei" in rest.text and "Eins" not in rest.text and 'rel="next"' not in rest.text
