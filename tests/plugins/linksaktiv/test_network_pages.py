"""Join links with QR codes and the info-stand mode over HTTP (issue #27 items 3 and 4): the
QR code decodes to the signed link, a changed link is refused, the stand saves through the
public sign-up (pending, double opt-in mail, source and volunteer audited) or nothing at all;
permissions and units."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode

import PIL.Image
import pytest
import zxingcpp

from core import db
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.linksaktiv.conftest import run_jobs
from tests.plugins.linksaktiv.test_signup import link_in, mails_to


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "http://testserver"}


def _base(unit) -> str:
    return f"/app/orgs/{unit['id']}/linksaktiv"


async def _as(client, user) -> None:
    client.cookies.clear()
    await console_login(client, user.email)
    client.cookies.set("orga_lang", "en")


def decode(png: bytes) -> str:
    [code] = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    return code.text


async def test_join_links_decode_to_the_signed_link_and_a_changed_link_is_refused(
    client, factory, party
):
    organizer = await factory.user("organizer", party.leipzig["id"])
    await _as(client, organizer)
    page = await client.get(f"{_base(party.leipzig)}/join")
    assert page.status_code == 200
    links = re.findall(r"<code>(http://testserver/p/linksaktiv/j/[^<]+)</code>", page.text)
    assert [link.split("/")[-2] for link in links] == [
        "info_stand",
        "doors",
        "event",
        "social_media",
        "web",
    ]
    assert page.text.count("<svg") == 5
    doors = links[1]
    assert doors.startswith(f"http://testserver/p/linksaktiv/j/{party.leipzig['id']}/doors/")
    assert len(doors) < 70  # short enough to type from the sheet

    png = await client.get(f"{_base(party.leipzig)}/join/doors/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert "attachment" in png.headers["content-disposition"]
    assert decode(png.content) == doors
    svg = await client.get(f"{_base(party.leipzig)}/join/doors/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    sheet = await client.get(f"{_base(party.leipzig)}/join/doors/sheet")
    assert sheet.status_code == 200 and doors.split("://")[1] in sheet.text
    assert "@media print" not in sheet.text and "<svg" in sheet.text
    assert (await client.get(f"{_base(party.leipzig)}/join/nowhere/sheet")).status_code == 404

    # the printed link opens the join form with the unit and source signed in
    opened = await client.get(doors.removeprefix("http://testserver"))
    assert opened.status_code == 303
    form = await client.get(opened.headers["location"].removeprefix("http://testserver"))
    ref = re.search(r'name="ref" value="([^"]+)"', form.text)[1]
    joined = await client.post(
        "/p/linksaktiv/join",
        data={
            "first_name": "Käthe",
            "last_name": "Kollwitz",
            "email": "kaethe@example.org",
            "postal_code": "80331",
            "consent": "yes",
            "ref": ref,
        },
    )
    assert joined.status_code == 200, joined.text
    row = await db.fetch_one(
        "SELECT a.source, a.source_org_id, p.home_org_id FROM linksaktiv_activist a "
        "JOIN person p ON p.id = a.person_id"
    )
    assert row == {
        "source": "doors",
        "source_org_id": party.leipzig["id"],
        "home_org_id": party.leipzig["id"],
    }

    # another unit's or source's link cannot be made from this one
    dresden = doors.replace(f"/j/{party.leipzig['id']}/", f"/j/{party.dresden['id']}/")
    event = doors.replace("/doors/", "/event/")
    for forged in (dresden, event, doors[:-1] + ("A" if doors[-1] != "A" else "B")):
        refused = await client.get(forged.removeprefix("http://testserver"))
        assert refused.status_code == 404
    tampered = await client.post(
        "/p/linksaktiv/join",
        data={
            "first_name": "Max",
            "last_name": "Hoelz",
            "email": "max@example.org",
            "postal_code": "80331",
            "consent": "yes",
            "ref": ref.replace(ref.split(".")[0], ref.split(".")[0][:-2] + "xx"),
        },
    )
    assert tampered.status_code == 422
    assert (await db.fetch_one("SELECT COUNT(*) AS n FROM person"))["n"] == 1


async def _stand_post(client, unit, **fields):
    page = await client.get(f"{_base(unit)}/stand")
    pairs = [("_csrf", csrf_of(page.text))]
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return await client.post(
        f"{_base(unit)}/stand",
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


STAND = {
    "first_name": "Clara",
    "last_name": "Zetkin",
    "email": "clara@example.org",
    "phone": "0341 123456",
    "postal_code": "04105",
    "topics": ["rent", "care"],
    "help": ["doors", "newspapers"],
    "source": "doors",
    "consent": "yes",
}


async def test_a_volunteer_at_the_stand_signs_up_a_contact_who_confirms_by_mail(
    app, client, factory, party, smtp_sink
):
    volunteer = await factory.user("caller", party.state["id"])
    await _as(client, volunteer)
    start = await client.get(f"/app/orgs/{party.state['id']}")
    assert f'{_base(party.state)}/stand"' in start.text
    assert f'{_base(party.state)}/join"' not in start.text  # join links need manage
    form = await client.get(f"{_base(party.state)}/stand")
    assert form.status_code == 200
    assert "I agree that the party stores my details" in form.text
    assert 'value="info_stand" selected' in form.text

    saved = await _stand_post(client, party.state, **STAND)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/linksaktiv/stand")
    again = await client.get(saved.headers["location"])
    assert "Saved." in again.text and 'value="Clara"' not in again.text

    person = await db.fetch_one(
        "SELECT p.id, p.pending, p.home_org_id, a.status, a.source, a.source_org_id "
        "FROM person p JOIN linksaktiv_activist a ON a.person_id = p.id"
    )
    assert person["pending"] and person["status"] == "pending"
    assert (person["home_org_id"], person["source"], person["source_org_id"]) == (
        party.leipzig["id"],
        "doors",
        party.state["id"],
    )
    consents = await db.fetch("SELECT channel, status, source FROM consent_event ORDER BY channel")
    assert consents == [
        {"channel": "email", "status": "pending", "source": "info_stand"},
        {"channel": "phone", "status": "pending", "source": "info_stand"},
    ]
    audit = await db.fetch_one(
        "SELECT user_id, object_id, org_id, detail FROM audit_log "
        "WHERE action = 'linksaktiv.stand_entry'"
    )
    assert (audit["user_id"], audit["object_id"], audit["org_id"]) == (
        volunteer.id,
        person["id"],
        party.state["id"],
    )
    assert db.json_value(audit["detail"]) == {"source": "doors"}

    await run_jobs(app)
    [mail] = mails_to(smtp_sink, "clara@example.org")
    assert (await client.get(link_in(mail, "confirm/"))).status_code == 200
    confirmed = await db.fetch_one(
        "SELECT a.status, p.pending FROM linksaktiv_activist a JOIN person p ON p.id = a.person_id"
    )
    assert confirmed == {"status": "confirmed", "pending": False}


async def test_bad_input_at_the_stand_shows_the_errors_beside_the_fields_and_saves_nothing(
    client, factory, party
):
    volunteer = await factory.user("caller", party.leipzig["id"])
    await _as(client, volunteer)
    missing = await _stand_post(
        client, party.leipzig, first_name="Rosa", email="", postal_code="04105", topics=["rent"]
    )
    assert missing.status_code == 422
    assert 'id="f-last_name-error"' in missing.text and 'id="f-email-error"' in missing.text
    assert 'id="f-consent-error"' in missing.text
    assert 'value="Rosa"' in missing.text and 'value="rent" checked' in missing.text
    bad = await _stand_post(client, party.leipzig, **{**STAND, "email": "not-an-address"})
    assert bad.status_code == 422 and 'id="f-email-error"' in bad.text
    source = await _stand_post(client, party.leipzig, **{**STAND, "source": "tv"})
    assert source.status_code == 422 and 'id="f-source-error"' in source.text
    assert await db.fetch("SELECT id FROM person") == []
    assert await db.fetch("SELECT id FROM linksaktiv_activist") == []


async def test_permissions_and_units(client, factory, party):
    viewer = await factory.user("viewer", party.leipzig["id"])
    await _as(client, viewer)
    start = await client.get(f"/app/orgs/{party.leipzig['id']}")
    assert "/linksaktiv/stand" not in start.text and "/linksaktiv/join" not in start.text
    assert (await client.get(f"{_base(party.leipzig)}/stand")).status_code == 403
    assert (await client.get(f"{_base(party.leipzig)}/join")).status_code == 403
    caller = await factory.user("caller", party.leipzig["id"])
    await _as(client, caller)
    assert (await client.get(f"{_base(party.leipzig)}/join/info_stand/qr.png")).status_code == 403
    # a volunteer of Dresden has no stand in Leipzig
    stranger = await factory.user("caller", party.dresden["id"])
    await _as(client, stranger)
    assert (await client.get(f"{_base(party.leipzig)}/stand")).status_code == 404
    page = await client.get(f"{_base(party.dresden)}/stand")
    forged = await client.post(
        f"{_base(party.leipzig)}/stand", data={**STAND, "_csrf": csrf_of(page.text)}
    )
    assert forged.status_code == 404
    assert await db.fetch("SELECT id FROM person") == []
