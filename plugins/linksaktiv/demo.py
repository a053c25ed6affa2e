"""Demo content of linksaktiv: topics, confirmed activists with interests, calls to action,
an edition of the newspaper with pickup and shipping orders, and up to three referrals
waiting in the campaign leadership's inbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec

from core.api import Demo, db
from plugins.linksaktiv.calls import topics
from plugins.linksaktiv.config import HELP_OPTIONS, SOURCES, config
from plugins.linksaktiv.orders import create_order, decide_delivery, move_order
from plugins.linksaktiv.referrals import refer
from plugins.linksaktiv.tables import Call, Edition

__all__ = ["demo_content"]

_WORDING = "Ich möchte bei linksaktiv mitmachen und per E-Mail informiert werden."


async def demo_content(demo: Demo) -> list[str]:
    """Everything a visitor of the linksaktiv pages needs to see it work."""
    known = {topic["slug"]: topic["id"] for topic in await topics()}
    activists = await _activists(demo, list(known.values()))
    await _calls(demo, known)
    await _calls_done(demo, activists)
    pickups, shipments = await _edition_with_orders(demo, activists)
    helpers = [a for a in activists if set(a["help"]) & set(config().referral_help)]
    referred = [r for r in [await refer(a["id"]) for a in helpers[:3]] if r is not None]
    return [
        f"linksaktiv: {len(known)} topics, {len(activists)} activists, 2 calls to action, "
        f"an edition with {pickups} pickup and {shipments} shipping orders, "
        f"{len(referred)} pending referrals"
    ]


async def _activists(demo: Demo, topic_ids: list[int]) -> list[dict[str, Any]]:
    """A third of the demo's people with an e-mail address join, confirmed, with topics."""
    marks = ", ".join(["{}"] * len(demo.people))
    rows = await db.fetch(
        "SELECT id, first_name, last_name, street, postal_code, city, home_org_id FROM person "
        f"WHERE id IN ({marks}) AND has_email AND NOT do_not_contact ORDER BY id",
        *demo.people,
    )
    chosen = demo.rng.sample(rows, (len(rows) + 2) // 3)
    chosen.sort(key=lambda r: r["id"])
    for number, person in enumerate(chosen):
        helps = demo.rng.sample(HELP_OPTIONS, demo.rng.randint(1, 3))
        if number == 0:
            helps = sorted({*helps, "doors"})  # campaign help: referred to the leadership
        person["help"] = helps
        joined = demo.now - timedelta(days=demo.rng.randint(1, 120))
        await db.execute(
            "INSERT INTO linksaktiv_activist (person_id, status, source, help, "
            "consent_wording, confirmed_at, last_active_at, created_at, updated_at) "
            "VALUES ({}, 'confirmed', {}, {}, {}, {}, {}, {}, {})",
            person["id"],
            demo.rng.choice(SOURCES),
            msgspec.json.encode(helps).decode(),
            _WORDING,
            joined,
            joined,
            joined,
            joined,
        )
        for topic_id in demo.rng.sample(topic_ids, demo.rng.randint(1, min(3, len(topic_ids)))):
            await db.execute(
                "INSERT INTO linksaktiv_interest (person_id, topic_id) VALUES ({}, {})",
                person["id"],
                topic_id,
            )
    return chosen


async def _calls(demo: Demo, known: dict[str, int]) -> None:
    """A call of the federal unit about rent and one of a state to share a video on care."""
    saxony = next(s for s in demo.states if s["name"].endswith("Sachsen"))
    for org, title, kind, link, slug in (
        (demo.federal, "Unterschriften für einen Mietendeckel sammeln", "offline", None, "rent"),
        (
            saxony,
            "Teile unser Video zur Pflege",
            "share_link",
            "https://example.org/pflege",
            "care",
        ),
    ):
        await Call.insert(
            Call(
                org=org["id"],
                title=title,
                text="Mach mit und sag uns, wenn du es getan hast.",
                kind=kind,
                link=link,
                topic_ids=msgspec.json.encode([known[slug]] if slug in known else []).decode(),
                starts_at=demo.now - timedelta(days=2),
                deadline=demo.now + timedelta(days=21),
                published_at=demo.now - timedelta(days=2),
            )
        ).run()


async def _calls_done(demo: Demo, activists: list[dict[str, Any]]) -> None:
    """Half of the activists did the federal call ("I did it"), so its results have bars."""
    call = await db.fetch_one(
        "SELECT id FROM linksaktiv_call WHERE org_id = {} ORDER BY id LIMIT 1", demo.federal["id"]
    )
    for person in activists[::2]:
        done = demo.now - timedelta(days=demo.rng.randint(0, 2))
        await db.execute(
            "INSERT INTO linksaktiv_call_done (call_id, person_id, done_at) VALUES ({}, {}, {})",
            call["id"],
            person["id"],
            done,
        )
        await db.execute(
            "UPDATE linksaktiv_activist SET last_active_at = {} WHERE person_id = {}",
            done,
            person["id"],
        )


async def _edition_with_orders(demo: Demo, activists: list[dict[str, Any]]) -> tuple[int, int]:
    """An edition of the federal unit and orders for it: picked up at a district office where
    one covers the activist's postal code, shipped elsewhere; some already approved."""
    rows = await Edition.insert(
        Edition(
            org=demo.federal["id"],
            title="Linke Zeitung Nr. 12",
            date=(demo.now + timedelta(days=5)).date(),
            copies=20_000,
            bundle_size=50,
        )
    ).run()
    edition = await db.fetch_one("SELECT * FROM linksaktiv_edition WHERE id = {}", rows[0]["id"])
    counts = {"pickup": 0, "shipping": 0}
    for person in activists:
        delivery, _unit = await decide_delivery(person["postal_code"])
        if counts[delivery] >= 4:
            continue
        # the edition's unit takes the order, as on the personal page and in the API
        order = await create_order(
            edition["org_id"], edition, person, demo.rng.choice([20, 50, 100, 200])
        )
        if counts[delivery] % 2:
            await move_order(order, "approved")
        counts[delivery] += 1
    return counts["pickup"], counts["shipping"]
