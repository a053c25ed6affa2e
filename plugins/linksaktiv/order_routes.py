"""Order, shipping, pickup, distribution and referral routes of the linksaktiv module."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, get, patch, post
from litestar.response import Stream

from core.api import (
    Actor,
    OrgScope,
    Page,
    get_in_org,
    get_person_row,
    invalid,
    not_found,
    requires,
    utcnow,
)
from plugins.linksaktiv import orders, referrals
from plugins.linksaktiv.schemas import (
    OrderIn,
    OrderOut,
    OrderPatch,
    PickupOrder,
    ReferralAnswer,
    ReferralOut,
    ReferralPatch,
)
from plugins.linksaktiv.tables import Edition

__all__ = ["order_handlers"]


def order_out(row: dict[str, Any]) -> OrderOut:
    """An order row as the API shows it (bundles from the edition's bundle size)."""
    return OrderOut(
        id=row["id"],
        org_id=row["org_id"],
        edition_id=row["edition_id"],
        person_id=row["person_id"],
        quantity=row["quantity"],
        bundles=-(-row["quantity"] // row["bundle_size"]),
        delivery=row["delivery"],
        pickup_org_id=row["pickup_org_id"],
        status=row["status"],
        distributed=row["distributed"],
        distributed_postal_code=row["distributed_postal_code"],
    )


async def _person_in_scope(person_id: int, org: OrgScope) -> dict[str, Any]:
    person = await get_person_row(person_id, org.path)
    if person is None:
        raise invalid("person_id", "no such person in this unit")
    return person


async def _order_in_org(order_id: int, org: OrgScope) -> dict[str, Any]:
    order = await orders.get_order(order_id)
    if order["org_id"] != org.id:
        raise not_found("order")
    return order


@post("/orders", guards=[requires("linksaktiv.manage")], summary="Order newspapers")
async def create_order(org: OrgScope, data: OrderIn) -> OrderOut:
    """Order copies for an activist of the region; ``delivery`` says pickup or shipping."""
    edition = await get_in_org(Edition, data.edition_id, org, "edition")
    edition["id"] = data.edition_id
    person = await _person_in_scope(data.person_id, org)
    order = await orders.create_order(org.id, edition, person, data.quantity)
    return order_out(order)


@get("/orders", guards=[requires("linksaktiv.manage")], summary="Orders of this unit")
async def list_orders(
    org: OrgScope,
    edition_id: int | None = None,
    status: str | None = None,
    delivery: Literal["pickup", "shipping"] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[OrderOut]:
    """Orders of this unit's editions, oldest first (keyset pages by id)."""
    page = await orders.list_orders(org.id, edition_id, status, delivery, limit, cursor)
    return Page([order_out(r) for r in page.items], page.next_cursor)


@get("/orders/{order_id:int}", guards=[requires("linksaktiv.manage")], summary="One order")
async def get_order(org: OrgScope, order_id: int) -> OrderOut:
    """An order of this unit (404 for another unit's)."""
    return order_out(await _order_in_org(order_id, org))


@patch("/orders/{order_id:int}", guards=[requires("linksaktiv.manage")], summary="Move order")
async def patch_order(org: OrgScope, order_id: int, data: OrderPatch) -> OrderOut:
    """requested → approved → packed/shipped → delivered → distributed (or cancelled)."""
    order = await _order_in_org(order_id, org)
    moved = await orders.move_order(order, data.status, data.distributed, data.postal_code)
    return order_out(moved)


@get(
    "/orders/shipping.csv",
    guards=[requires("linksaktiv.manage")],
    summary="Shipping list for the print/logistics provider",
    media_type="text/csv",
)
async def shipping_csv(
    request: Request,
    actor: Actor,
    org: OrgScope,
    edition_id: int | None = None,
    status: str | None = None,
) -> Stream:
    """Addresses, copies and bundles of this unit's shipping orders, streamed as CSV.

    ``status`` is a comma-separated list (default: every status but cancelled). Audited with
    the ids of the people in the file, once it has gone out.
    """
    rows = orders.export_shipping(request, actor, org.id, edition_id, status)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Stream(
        rows,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="shipping-{stamp}.csv"'},
    )


@get(
    "/editions/{edition_id:int}/pickup",
    guards=[requires("linksaktiv.manage")],
    summary="Pickup lists per office",
)
async def pickup(
    request: Request,
    actor: Actor,
    org: OrgScope,
    edition_id: int,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[PickupOrder]:
    """The edition's pickup orders with their office's address and opening hours, by office,
    then name (keyset pages; each page audited with the people in it)."""
    await get_in_org(Edition, edition_id, org, "edition")
    page = await orders.read_pickup(request, actor, org.id, edition_id, limit, cursor)
    return Page([PickupOrder(**r) for r in page.items], page.next_cursor)


@get(
    "/editions/{edition_id:int}/pickup.csv",
    guards=[requires("linksaktiv.manage")],
    summary="Pickup lists per office as CSV",
    media_type="text/csv",
)
async def pickup_csv(
    request: Request, actor: Actor, org: OrgScope, edition_id: int
) -> Response[bytes]:
    """The pickup lists as one CSV to print per office (sorted by office, then name;
    audited)."""
    await get_in_org(Edition, edition_id, org, "edition")
    return Response(
        await orders.pickup_csv(request, actor, org.id, edition_id),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="pickup-{edition_id}.csv"'},
    )


@get(
    "/distribution",
    guards=[requires("linksaktiv.view")],
    summary="Distribution report (one row per unit of the subtree, not paged)",
)
async def distribution(org: OrgScope, edition_id: int | None = None) -> list[dict[str, Any]]:
    """Per unit of the subtree and postal code: copies distributed, and coverage gaps.

    Bounded, so not paged: one row per unit of the subtree (the party's structure, not its
    members or orders), and a unit's postal codes are at most the country's (a covered range
    wider than 2,000 codes is listed by its ends)."""
    return await orders.distribution_report(org.path, edition_id)


def _referral_out(row: dict[str, Any]) -> ReferralOut:
    return ReferralOut(
        id=row["id"],
        org_id=row["org_id"],
        person_id=row["person_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        status=row["status"],
        created_at=row["created_at"],
        reminded_at=row["reminded_at"],
        routed_at=row["routed_at"],
    )


@get("/referrals", guards=[requires("linksaktiv.referrals")], summary="Volunteer referrals")
async def list_referrals(
    request: Request,
    actor: Actor,
    org: OrgScope,
    status: Literal["new", "contacted", "active", "declined"] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ReferralOut]:
    """Volunteers referred to this unit (keyset pages by id)."""
    page = await referrals.read_referrals(request, actor, org.id, status, limit, cursor)
    return Page([_referral_out(r) for r in page.items], page.next_cursor)


@get(
    "/referrals/{referral_id:int}",
    guards=[requires("linksaktiv.referrals")],
    summary="One referral",
)
async def get_referral(org: OrgScope, referral_id: int) -> ReferralOut:
    """A referral of this unit (404 for another unit's)."""
    return _referral_out(await referrals.read_referral(org.id, referral_id))


@patch(
    "/referrals/{referral_id:int}",
    guards=[requires("linksaktiv.referrals")],
    summary="Update a referral",
)
async def patch_referral(org: OrgScope, referral_id: int, data: ReferralPatch) -> ReferralOut:
    """Record contact, activity or a decline."""
    return _referral_out(await referrals.update_referral(org.id, referral_id, data.status))


@post(
    "/referrals/{referral_id:int}/answer",
    guards=[requires("linksaktiv.referrals")],
    status_code=200,
    summary="Accept, pass up or decline a referral",
)
async def answer_referral(
    actor: Actor, org: OrgScope, referral_id: int, data: ReferralAnswer
) -> ReferralOut:
    """Accept a waiting referral, pass it to the next unit up that receives referrals, or
    decline it, with a note (404 for another unit's, 409 once answered)."""
    row = await referrals.answer(
        org.id, org.path, referral_id, data.action, data.note, actor.user_id
    )
    return _referral_out(row)


def order_handlers() -> list:
    """Route handlers of this file."""
    return [
        create_order,
        list_orders,
        get_order,
        patch_order,
        shipping_csv,
        pickup,
        pickup_csv,
        distribution,
        list_referrals,
        get_referral,
        patch_referral,
        answer_referral,
    ]
