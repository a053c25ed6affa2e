"""The activist's personal page: what it shows and what its forms do."""

from __future__ import annotations

from typing import Any

import msgspec

from core.api import Problem, current_runtime, db, erase_person, form_int, invalid, record, utcnow
from plugins.linksaktiv import calls as call_service
from plugins.linksaktiv import orders
from plugins.linksaktiv.signup import set_topics, unsubscribe

__all__ = ["act", "erase_self", "export_own_data", "own_data", "page_data"]


async def page_data(person_id: int) -> dict[str, Any] | None:
    """Everything the page shows, or ``None`` when the person is no activist (any more).

    The page shows what the person gave through public forms, their consents and activity,
    never what the party noted or imported about them (notes, address, custom fields): the
    link may have been forwarded, and the record may hold data the activist never gave.
    """
    person = await db.fetch_one(
        "SELECT p.id, p.first_name, p.last_name, p.email, p.postal_code, "
        "p.home_org_id, u.path, a.status FROM person p JOIN linksaktiv_activist a "
        "ON a.person_id = p.id JOIN org_unit u ON u.id = p.home_org_id WHERE p.id = {}",
        person_id,
    )
    if person is None:
        return None
    mine = {
        r["topic_id"]
        for r in await db.fetch(
            "SELECT topic_id FROM linksaktiv_interest WHERE person_id = {}", person_id
        )
    }
    topics = [dict(t, chosen=t["id"] in mine) for t in await call_service.topics()]
    my_orders = await db.fetch(
        "SELECT o.id, o.quantity, o.delivery, o.status, o.distributed, "
        "o.distributed_postal_code, e.title, e.date, u.name AS office_name, u.office "
        "FROM linksaktiv_order o JOIN linksaktiv_edition e ON e.id = o.edition_id "
        "LEFT JOIN org_unit u ON u.id = o.pickup_org_id WHERE o.person_id = {} ORDER BY o.id",
        person_id,
    )
    for order in my_orders:
        order["office"] = db.json_value(order["office"])
    ancestors = [int(x) for x in person["path"].strip("/").split("/") if x]
    marks = ", ".join(["{}"] * len(ancestors))
    editions = await db.fetch(
        f"SELECT id, title, date FROM linksaktiv_edition WHERE org_id IN ({marks}) "
        "AND date >= {} ORDER BY date DESC, id DESC LIMIT 5",
        *ancestors,
        utcnow().date().replace(day=1),
    )
    return {
        "person": person,
        "topics": topics,
        "calls": await call_service.calls_for(person_id) if person["status"] == "confirmed" else [],
        "orders": my_orders,
        "editions": editions,
    }


_SELF = {"by": "self", "via": "linksaktiv"}


async def export_own_data(person_id: int) -> dict[str, Any] | None:
    """:func:`own_data` of ``person_id`` (``None`` when there is no such person), audited as
    ``person.exported`` by the person themself."""
    row = await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)
    if row is None:
        return None
    export = await own_data(row)
    await record(
        "person.exported",
        object_type="person",
        object_id=row["id"],
        org_id=row["home_org_id"],
        detail=_SELF,
    )
    return export


async def erase_self(person_id: int) -> None:
    """Erase the person at their own request from the page (GDPR Art. 17; audited by
    ``erase_person``)."""
    row = await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)
    if row is not None:
        await erase_person(row, current_runtime().registry, detail=_SELF)


async def own_data(person: dict[str, Any]) -> dict[str, Any]:
    """The page's download: the person's own details, phones, consent history and what they
    did in the network, as plain JSON data (what the page shows, nothing the party noted)."""
    from plugins.linksaktiv.gdpr import export

    person_id = person["id"]
    phones = await db.fetch(
        "SELECT e164 FROM person_phone WHERE person_id = {} ORDER BY position", person_id
    )
    history = await db.fetch(
        "SELECT channel, purpose, status, source, reference, wording, at FROM consent_event "
        "WHERE person_id = {} ORDER BY id",
        person_id,
    )
    return msgspec.to_builtins(
        {
            "person": {
                key: person[key] for key in ("first_name", "last_name", "email", "postal_code")
            },
            "phones": [row["e164"] for row in phones],
            "consent_history": history,
            "linksaktiv": await export(person_id),
        }
    )


async def _order(person_id: int, form: Any) -> str:
    page = await page_data(person_id)
    assert page is not None
    edition_id = form_int(form, "edition_id")
    if not any(e["id"] == edition_id for e in page["editions"]):
        raise invalid("edition_id", "choose an edition")
    try:
        quantity = int(form.get("quantity") or 0)
    except ValueError:
        raise invalid("quantity", "a number of copies") from None
    if quantity < 1:
        raise invalid("quantity", "a number of copies")
    street = (form.get("street") or "").strip()[:300]
    city = (form.get("city") or "").strip()[:300]
    if street or city:
        await db.execute(
            "UPDATE person SET street = COALESCE(NULLIF(CAST({} AS TEXT), ''), street), "
            "city = COALESCE(NULLIF(CAST({} AS TEXT), ''), city), updated_at = {} WHERE id = {}",
            street,
            city,
            utcnow(),
            person_id,
        )
    edition = await db.fetch_one("SELECT * FROM linksaktiv_edition WHERE id = {}", edition_id)
    person = await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)
    assert edition is not None and person is not None
    order = await orders.create_order(edition["org_id"], edition, person, quantity)
    return f"order-{order['delivery']}"


async def _report(person_id: int, form: Any) -> str:
    order_id = form_int(form, "order_id")
    order = await orders.get_order(order_id)
    if order["person_id"] != person_id:
        raise invalid("order_id", "not your order")
    if order["status"] in ("requested", "cancelled", "distributed"):
        raise invalid("order_id", "this order cannot be reported now")
    try:
        distributed = int(form.get("distributed") or -1)
    except ValueError:
        distributed = -1
    order["status"] = "delivered"  # receiving the copies is implied by reporting them
    await orders.move_order(order, "distributed", distributed, form.get("postal_code"))
    return "reported"


async def act(person_id: int, action: str, form: Any) -> str:
    """Carry out one form of the page; returns a short outcome code for the page.

    Raises:
        Problem: 422 with the field and message to show.
    """
    if action == "topics":
        await set_topics(person_id, form.getall("topics", []))
        return "topics"
    if action == "done":
        if not await call_service.mark_done(person_id, form_int(form, "call_id")):
            raise invalid("call_id", "this call is not open for you")
        return "done"
    if action == "order":
        return await _order(person_id, form)
    if action == "report":
        return await _report(person_id, form)
    if action == "unsubscribe":
        await unsubscribe(person_id)
        return "unsubscribed"
    raise Problem(400, "bad-request", "unknown action")
