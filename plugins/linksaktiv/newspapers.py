"""The newspaper console's services: an edition's orders by state with the people's names
(audited) and moving many orders in one step."""

from __future__ import annotations

from typing import Any

from core.api import (
    N_,
    Actor,
    Page,
    conflict,
    db,
    invalid,
    not_found,
    record,
    record_list,
    utcnow,
)
from plugins.linksaktiv.lists import page_by_id
from plugins.linksaktiv.orders import NEXT

__all__ = ["BULK", "move_orders", "read_edition_orders", "state_counts"]

#: The moves an office makes for many orders at once (a distribution report needs the
#: copies and the place of each order, so it is not one of them).
BULK = ("approved", "packed", "shipped", "delivered", "cancelled")


async def state_counts(org_id: int, edition_id: int) -> dict[str, int]:
    """How many of the edition's orders are in each status."""
    rows = await db.fetch(
        "SELECT status, COUNT(*) AS n FROM linksaktiv_order "
        "WHERE org_id = {} AND edition_id = {} GROUP BY status",
        org_id,
        edition_id,
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def read_edition_orders(
    request: Any,
    actor: Actor,
    org_id: int,
    edition_id: int,
    status: str,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page (oldest first) of the edition's orders in ``status`` with the person's
    name and postal code and the pickup office's name; audited as
    ``linksaktiv.orders_listed`` with the people shown.

    Raises:
        Problem: 422 naming ``status`` for an unknown status, ``cursor`` for a foreign one.
    """
    if status not in NEXT:
        raise invalid("status", N_("unknown status"))
    page = await page_by_id(
        "SELECT o.id, o.person_id, o.quantity, o.delivery, o.status, o.distributed, "
        "o.distributed_postal_code, e.bundle_size, p.first_name, p.last_name, p.postal_code, "
        "u.name AS office FROM linksaktiv_order o "
        "JOIN linksaktiv_edition e ON e.id = o.edition_id "
        "JOIN person p ON p.id = o.person_id "
        "LEFT JOIN org_unit u ON u.id = o.pickup_org_id "
        "WHERE o.org_id = {} AND o.edition_id = {} AND o.status = {}",
        [org_id, edition_id, status],
        "o.id",
        limit,
        cursor,
    )
    people = [r["person_id"] for r in page.items]
    filters = {"status": status}
    record_list(
        request,
        "linksaktiv.orders_listed",
        actor,
        org_id,
        people,
        filters,
        object_type="edition",
        object_id=edition_id,
    )
    return page


async def move_orders(org_id: int, edition_id: int, order_ids: list[int], status: str) -> int:
    """Move the edition's orders ``order_ids`` to ``status`` together: all or none, in one
    statement, audited once as ``linksaktiv.orders_moved`` with the ids. Returns how many
    moved.

    Raises:
        Problem: 422 naming ``orders`` when none is chosen, ``status`` for a move not made
            in bulk; 404 when an order is not the edition's (another unit's); 409 naming
            ``status`` with the orders that cannot make this move from where they are.
    """
    ids = sorted(set(order_ids))
    if not ids:
        raise invalid("orders", N_("Choose at least one order."))
    if status not in BULK:
        raise invalid("status", N_("This is not a move for many orders at once."))
    marks = ", ".join(["{}"] * len(ids))
    async with db.transaction():
        rows = await db.fetch(
            f"SELECT id, status FROM linksaktiv_order WHERE id IN ({marks}) "
            "AND org_id = {} AND edition_id = {}",
            *ids,
            org_id,
            edition_id,
        )
        if len(rows) != len(ids):
            raise not_found("order")
        refused = sorted(r["id"] for r in rows if status not in NEXT[r["status"]])
        if refused:
            raise conflict(
                N_("These orders cannot make this move from their state: %(orders)s."),
                field="status",
                orders=", ".join(f"#{n}" for n in refused),
            )
        await db.execute(
            f"UPDATE linksaktiv_order SET status = {{}}, updated_at = {{}} WHERE id IN ({marks})",
            status,
            utcnow(),
            *ids,
        )
        await record(
            "linksaktiv.orders_moved",
            org_id=org_id,
            object_type="edition",
            object_id=edition_id,
            detail={"orders": ids, "status": status},
        )
    return len(ids)
