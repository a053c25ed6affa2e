"""linksaktiv's cards on a unit's start page (issue #24): the activists of the unit and below
for holders of ``linksaktiv.view``, the referrals waiting for the unit for holders of
``linksaktiv.referrals``; none where the module is off for the unit, none for a caller."""

from __future__ import annotations

import re

import pytest

from core.orgs.services import set_module
from tests.core.console.helpers import console_login
from tests.plugins.linksaktiv.test_referrals import volunteer


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


def _cards(html: str) -> str:
    match = re.search(r'<ul class="cards">(.*?)</ul>', html, re.S)
    return re.sub(r"\s+", " ", match.group(1)) if match else ""


@pytest.fixture
async def network(app, client, party):
    """Three confirmed activists in Saxony (one asks to help at the doors: a referral to the
    federal unit, where the only holder of ``linksaktiv.referrals`` is), one waiting to confirm."""
    await volunteer(app, client, "a@example.org", "04105", ["doors"])
    await volunteer(app, client, "b@example.org", "04105", ["online"])
    await volunteer(app, client, "c@example.org", "01067", ["online"])
    joined = await client.post(
        "/p/linksaktiv/api/join",
        json={
            "first_name": "Noch",
            "last_name": "Nicht",
            "email": "d@example.org",
            "postal_code": "01067",
            "help": [],
            "consent": True,
            "consent_wording": "Ja",
        },
    )
    assert joined.status_code == 202, joined.text
    return party


async def test_activists_and_waiting_referrals_with_their_numbers(client, network):
    await console_login(client, network.admin.email)
    cards = _cards((await client.get(f"/app/orgs/{network.root['id']}")).text)
    assert '<h2>Aktive</h2> <p class="figure">3</p> <p>1 warten auf ihre Bestätigung</p>' in cards
    assert (
        '<li class="card attention"> <h2>Vermittelte Freiwillige</h2> <p class="figure">1</p>'
        in cards
    )
    leipzig = _cards((await client.get(f"/app/orgs/{network.leipzig['id']}")).text)
    assert '<h2>Aktive</h2> <p class="figure">2</p> <p>0 warten auf ihre Bestätigung</p>' in leipzig
    assert '<h2>Vermittelte Freiwillige</h2> <p class="figure">0</p>' in leipzig


async def test_an_organizer_sees_activists_but_not_referrals(client, factory, network):
    organizer = await factory.user("organizer", network.state["id"])
    await console_login(client, organizer.email)
    cards = _cards((await client.get(f"/app/orgs/{network.state['id']}")).text)
    assert '<h2>Aktive</h2> <p class="figure">3</p>' in cards
    assert "Vermittelte Freiwillige" not in cards


async def test_a_caller_sees_no_linksaktiv_cards(client, factory, network):
    caller = await factory.user("caller", network.leipzig["id"])
    await console_login(client, caller.email)
    page = await client.get(f"/app/orgs/{network.leipzig['id']}")
    assert page.status_code == 200, page.text
    assert "Aktive" not in _cards(page.text) and "Vermittelte" not in page.text


async def test_no_cards_where_linksaktiv_is_off(client, factory, network):
    admin = await factory.user("admin", network.state["id"], email="landes-admin@example.org")
    await console_login(client, admin.email)
    page = await client.get(f"/app/orgs/{network.leipzig['id']}")
    assert ">landes-admin<" in page.text and "<h2>Aktive</h2>" in page.text
    await set_module(network.state["id"], "linksaktiv", False)
    page = await client.get(f"/app/orgs/{network.leipzig['id']}")
    assert page.status_code == 200, page.text
    assert "Aktive" not in _cards(page.text) and "Vermittelte" not in page.text
