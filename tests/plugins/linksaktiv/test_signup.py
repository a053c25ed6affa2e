"""Sign-up with double opt-in: form and JSON, matching, home unit, consent proof, referrals."""

from __future__ import annotations

import re
from email import message_from_bytes

import pytest

from core import db
from tests.pages import assert_errors_in
from tests.plugins.linksaktiv.conftest import api, run_jobs


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "http://testserver"}


def mails_to(smtp_sink, address: str) -> list:
    out = []
    for raw in smtp_sink.raw:
        message = message_from_bytes(raw)
        if address in message["To"]:
            out.append(message)
    return out


def body(message) -> str:
    part = message.get_body(("plain",)) if hasattr(message, "get_body") else message
    payload = (part or message).get_payload(decode=True)
    if payload is None:
        payload = message.get_payload(0).get_payload(decode=True)
    return payload.decode()


def link_in(message, path: str) -> str:
    text = body(message)
    match = re.search(rf"http://testserver(/p/linksaktiv/{path}\S+)", text)
    assert match, text
    return match.group(1)


JOIN = {
    "first_name": "Rosa",
    "last_name": "Lux",
    "email": "rosa@example.org",
    "postal_code": "04105",
    "topics": ["rent", "care"],
    "help": ["newspapers"],
    "consent": True,
    "consent_wording": "Ja, informiert mich.",
}


async def test_json_sign_up_confirms_by_mail_and_lands_in_the_district(
    app, client, party, smtp_sink
):
    response = await client.post("/p/linksaktiv/api/join", json=JOIN)
    assert response.status_code == 202, response.text
    person = await db.fetch_one("SELECT id, home_org_id, source FROM person")
    assert person["home_org_id"] == party.leipzig["id"]
    assert person["source"] == "web_form"
    # nothing but the confirmation goes out; the consent is pending until the link is followed
    pending = await db.fetch("SELECT channel, status FROM consent_event")
    assert pending == [{"channel": "email", "status": "pending"}]
    await run_jobs(app)
    [mail] = mails_to(smtp_sink, "rosa@example.org")
    confirm = link_in(mail, "confirm/")
    page = await client.get(confirm)
    assert page.status_code == 200 and "/p/linksaktiv/me?t=" in page.text
    consent = await db.fetch_one(
        "SELECT channel, status, wording FROM consent_event WHERE status = 'granted'"
    )
    assert consent == {"channel": "email", "status": "granted", "wording": "Ja, informiert mich."}
    listed = await client.get(api(party.leipzig, "/activists"), headers=party.admin.headers)
    [activist] = listed.json()["items"]
    assert activist["status"] == "confirmed" and activist["topics"] == ["care", "rent"]
    # confirming twice is harmless; a forged link is not
    assert (await client.get(confirm)).status_code == 200
    assert (await client.get("/p/linksaktiv/confirm/forged.token")).status_code == 400


async def test_bad_sign_ups_name_the_field(client, party):
    no_consent = await client.post("/p/linksaktiv/api/join", json=JOIN | {"consent": False})
    assert no_consent.status_code == 422
    assert no_consent.json()["errors"][0]["field"] == "consent"
    topic = await client.post("/p/linksaktiv/api/join", json=JOIN | {"topics": ["golf"]})
    assert topic.json()["errors"][0]["field"] == "topics"
    ref = await client.post("/p/linksaktiv/api/join", json=JOIN | {"ref": "x.y"})
    assert ref.json()["errors"][0]["field"] == "ref"
    assert await db.fetch("SELECT id FROM person") == []


async def test_form_post_without_javascript_and_honeypot(client, party):
    page = await client.get("/p/linksaktiv/join")
    assert page.status_code == 200 and 'name="website"' in page.text and 'lang="' in page.text
    form = {
        "first_name": "Karl",
        "last_name": "L",
        "email": "karl@example.org",
        "postal_code": "01067",
        "topics": ["peace", "transport"],
        "help": ["doors"],
        "consent": "yes",
    }
    bot = await client.post("/p/linksaktiv/join", data=form | {"website": "http://spam"})
    assert bot.status_code == 200 and await db.fetch("SELECT id FROM person") == []
    missing = await client.post("/p/linksaktiv/join", data=form | {"consent": ""})
    assert missing.status_code == 422 and "consent-error" in missing.text
    sent = await client.post("/p/linksaktiv/join", data=form)
    assert sent.status_code == 200
    row = await db.fetch_one("SELECT home_org_id FROM person")
    assert row["home_org_id"] == party.dresden["id"]
    topics = await db.fetch(
        "SELECT t.slug FROM linksaktiv_interest i JOIN linksaktiv_topic t ON t.id = i.topic_id "
        "ORDER BY t.slug"
    )
    assert [t["slug"] for t in topics] == ["peace", "transport"]


FORM = {
    "first_name": "Karl",
    "last_name": "L",
    "email": "karl@example.org",
    "postal_code": "01067",
    "consent": "yes",
}


@pytest.mark.parametrize("locale", ["de", "sv"])
async def test_form_errors_are_in_the_pages_language(client, party, locale):
    headers = {"accept-language": locale}
    empty = await client.post("/p/linksaktiv/join", data={}, headers=headers)
    assert empty.status_code == 422
    assert len(assert_errors_in(empty.text, locale)) == 5  # four fields and the consent
    assert ">required<" not in empty.text  # what the page showed before
    for bad in (
        {"email": "karl@"},  # email-validator's English sentence
        {"phone": "kein Telefon"},  # core names the field phones[0]
        {"first_name": "K" * 201},  # msgspec's English sentence
        {"ref": "kaputt"},
        {"topics": "golf"},
    ):
        page = await client.post("/p/linksaktiv/join", data=FORM | bad, headers=headers)
        assert page.status_code == 422, bad
        assert_errors_in(page.text, locale)
        assert 'name="ref" value="None"' not in page.text
    assert await db.fetch("SELECT id FROM person") == []


async def test_signed_source_link_sets_unit_and_source(client, party):
    link = await client.get(
        api(party.dresden, "/join-link"),
        params={"source": "info_stand"},
        headers=party.admin.headers,
    )
    ref = link.json()["url"].split("ref=")[1]
    short = link.json()["short_url"]  # the printed link leads to the same form
    assert re.fullmatch(rf".*/p/linksaktiv/j/{party.dresden['id']}/info_stand/[\w-]+", short)
    opened = await client.get(short.removeprefix("http://testserver.local"))
    assert opened.status_code in (302, 303, 307) and opened.headers["location"].endswith(ref)
    response = await client.post(
        "/p/linksaktiv/api/join", json=JOIN | {"postal_code": "99999", "ref": ref}
    )
    assert response.status_code == 202
    row = await db.fetch_one(
        "SELECT p.home_org_id, a.source, a.source_org_id FROM person p "
        "JOIN linksaktiv_activist a ON a.person_id = p.id"
    )
    assert row == {
        "home_org_id": party.dresden["id"],  # no unit covers 99999: the link's unit
        "source": "info_stand",
        "source_org_id": party.dresden["id"],
    }


class TestRateLimit:
    @pytest.fixture
    def orga_overrides(self):
        return {"module_config": {"linksaktiv": {"signups_per_minute": 2}}}

    async def test_third_sign_up_from_one_address_is_throttled(self, client, party):
        for n in range(2):
            ok = await client.post(
                "/p/linksaktiv/api/join", json=JOIN | {"email": f"r{n}@example.org"}
            )
            assert ok.status_code == 202
        throttled = await client.post("/p/linksaktiv/api/join", json=JOIN)
        assert throttled.status_code == 429


class TestEmbedding:
    @pytest.fixture
    def orga_overrides(self):
        return {"cors_origins": ("https://partei.example",)}

    async def test_json_endpoint_allows_the_party_website_only(self, client, party):
        preflight = {
            "Origin": "https://partei.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        allowed = await client.options("/p/linksaktiv/api/join", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://partei.example"
        posted = await client.post(
            "/p/linksaktiv/api/join", json=JOIN, headers={"Origin": "https://partei.example"}
        )
        assert posted.status_code == 202
        assert posted.headers["access-control-allow-origin"] == "https://partei.example"
        other = await client.post(
            "/p/linksaktiv/api/join",
            json=JOIN | {"email": "x@example.org"},
            headers={"Origin": "https://evil.example"},
        )
        assert "access-control-allow-origin" not in other.headers


async def test_new_personal_link_by_mail_only_for_confirmed_activists(
    app, client, party, smtp_sink
):
    await client.post("/p/linksaktiv/api/join", json=JOIN)
    await run_jobs(app)
    [mail] = mails_to(smtp_sink, "rosa@example.org")
    pending = await client.post("/p/linksaktiv/link", data={"email": "rosa@example.org"})
    assert pending.status_code == 200
    await run_jobs(app)
    assert len(mails_to(smtp_sink, "rosa@example.org")) == 1  # not confirmed: nothing
    await client.get(link_in(mail, "confirm/"))
    unknown = await client.post("/p/linksaktiv/link", data={"email": "nobody@example.org"})
    known = await client.post("/p/linksaktiv/link", data={"email": "Rosa@Example.org"})
    assert unknown.text == known.text
    await run_jobs(app)
    new = mails_to(smtp_sink, "rosa@example.org")[-1]
    page = await client.get(link_in(new, "me"))
    assert page.status_code == 200 and "Hallo Rosa" in page.text
