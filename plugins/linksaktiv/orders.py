"""Newspaper orders: the delivery decision, status moves, shipping and pickup lists, report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from core.api import (
    Actor,
    Coverage,
    CsvWriter,
    Page,
    XlsxWriter,
    check_limit,
    conflict,
    db,
    decode_cursor,
    invalid,
    normalize_postal_code,
    not_found,
    page_of,
    record,
    record_list,
    subtree_sql,
    to_row,
    utcnow,
)
from plugins.linksaktiv.calls import touch_activity
from plugins.linksaktiv.config import config
from plugins.linksaktiv.lists import page_by_id
from plugins.linksaktiv.schemas import EditionIn
from plugins.linksaktiv.tables import Edition

__all__ = [
    "NEXT",
    "create_edition",
    "create_order",
    "decide_delivery",
    "distribution_report",
    "export_shipping",
    "export_shipping_xlsx",
    "list_orders",
    "move_order",
    "pickup_csv",
    "pickup_rows",
    "read_pickup",
    "read_pickup_list",
    "shipping_records",
    "shipping_rows",
]

# Which status may follow which (cancelled from anywhere before delivery).
NEXT = {
    "requested": {"approved", "cancelled"},
    "approved": {"packed", "shipped", "cancelled"},
    "packed": {"shipped", "delivered", "cancelled"},
    "shipped": {"delivered"},
    "delivered": {"distributed"},
    "distributed": set(),
    "cancelled": set(),
}


async def decide_delivery(postal_code: str | None) -> tuple[str, int | None]:
    """``("pickup", unit)`` when a unit with an office covers the code (the deepest such
    unit), else ``("shipping", None)``; with ``office_pickup`` off, always shipping."""
    code = normalize_postal_code(postal_code)
    if code is None or not config().office_pickup:
        return "shipping", None
    row = await db.fetch_one(
        "SELECT u.id FROM org_postcode c JOIN org_unit u ON u.id = c.org_id "
        "WHERE c.code_from <= {} AND c.code_to >= {} AND length(c.code_from) = {} "
        "AND u.office IS NOT NULL ORDER BY length(u.path) DESC, u.id LIMIT 1",
        code,
        code,
        len(code),
    )
    return ("pickup", row["id"]) if row else ("shipping", None)


async def create_edition(org_id: int, data: EditionIn) -> int:
    """A newspaper edition of unit ``org_id``, audited as ``linksaktiv.edition_created``;
    returns its id."""
    rows = await Edition.insert(Edition(org=org_id, **to_row(data))).run()
    await record(
        "linksaktiv.edition_created", org_id=org_id, object_type="edition", object_id=rows[0]["id"]
    )
    return rows[0]["id"]


async def create_order(
    org_id: int, edition: dict[str, Any], person: dict[str, Any], quantity: int
) -> dict[str, Any]:
    """Order ``quantity`` copies of ``edition`` for ``person``; the system decides delivery
    (audited as ``linksaktiv.order_created``).

    Raises:
        Problem: 422 naming ``quantity`` outside the shipping thresholds or above what the
            edition has left; 422 naming ``person_id`` when a shipping order lacks an address.
    """
    settings = config()
    delivery, pickup = await decide_delivery(person.get("postal_code"))
    if delivery == "shipping":
        low, high = settings.shipping_min_copies, settings.shipping_max_copies
        if not low <= quantity <= high:
            raise invalid("quantity", f"free shipping is for {low} to {high} copies")
        if not (person.get("street") and person.get("postal_code") and person.get("city")):
            raise invalid("person_id", "shipping needs street, postal code and city")
    async with db.transaction():
        taken = await db.fetch_one(
            "SELECT COALESCE(SUM(quantity), 0) AS n FROM linksaktiv_order "
            "WHERE edition_id = {} AND status <> 'cancelled'",
            edition["id"],
        )
        if taken["n"] + quantity > edition["copies"]:
            raise invalid("quantity", f"only {edition['copies'] - taken['n']} copies are left")
        now = utcnow()
        rows = await db.fetch(
            "INSERT INTO linksaktiv_order (org_id, edition_id, person_id, quantity, delivery, "
            "pickup_org_id, status, created_at, updated_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, 'requested', {}, {}) RETURNING id",
            org_id,
            edition["id"],
            person["id"],
            quantity,
            delivery,
            pickup,
            now,
            now,
        )
        await record(
            "linksaktiv.order_created",
            org_id=org_id,
            object_type="person",
            object_id=person["id"],
            detail={"order": rows[0]["id"]},
        )
        await touch_activity(person["id"])
    return await get_order(rows[0]["id"])


async def get_order(order_id: int) -> dict[str, Any]:
    """One order with its edition's bundle size."""
    row = await db.fetch_one(
        "SELECT o.*, e.bundle_size, e.title AS edition_title FROM linksaktiv_order o "
        "JOIN linksaktiv_edition e ON e.id = o.edition_id WHERE o.id = {}",
        order_id,
    )
    if row is None:
        raise not_found("order")
    return row


async def move_order(
    order: dict[str, Any],
    status: str,
    distributed: int | None = None,
    postal_code: str | None = None,
) -> dict[str, Any]:
    """Move an order to ``status``; ``distributed`` takes how many copies went where (audited
    as ``linksaktiv.order_moved``)."""
    if status not in NEXT.get(order["status"], set()):
        raise conflict(f"An order cannot go from {order['status']} to {status}.", field="status")
    values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
    if status == "distributed":
        code = normalize_postal_code(postal_code)
        if distributed is None or not 0 <= distributed <= order["quantity"]:
            raise invalid("distributed", f"between 0 and {order['quantity']} copies")
        if code is None:
            raise invalid("postal_code", "where were they distributed?")
        values |= {"distributed": distributed, "distributed_postal_code": code}
    columns = ", ".join(f"{k} = {{}}" for k in values)
    async with db.transaction():
        await db.execute(
            f"UPDATE linksaktiv_order SET {columns} WHERE id = {{}}", *values.values(), order["id"]
        )
        await record(
            "linksaktiv.order_moved",
            org_id=order["org_id"],
            object_type="person",
            object_id=order["person_id"],
            detail={"order": order["id"], "status": status},
        )
    return await get_order(order["id"])


SHIPPING_COLUMNS = (
    "order_id",
    "edition",
    "first_name",
    "last_name",
    "street",
    "postal_code",
    "city",
    "country",
    "copies",
    "bundles",
    "bundle_size",
    "status",
)


async def list_orders(
    org_id: int,
    edition_id: int | None,
    status: str | None,
    delivery: str | None,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page (by id, oldest first) of unit ``org_id``'s orders with their edition's
    bundle size, ``edition_id``, ``status`` and ``delivery`` narrowing it.

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list.
    """
    sql = (
        "SELECT o.*, e.bundle_size FROM linksaktiv_order o JOIN linksaktiv_edition e "
        "ON e.id = o.edition_id WHERE o.org_id = {}"
    )
    args: list[Any] = [org_id]
    for column, value in (("edition_id", edition_id), ("status", status), ("delivery", delivery)):
        if value is not None:
            sql += f" AND o.{column} = {{}}"
            args.append(value)
    return await page_by_id(sql, args, "o.id", limit, cursor)


def _statuses(status: str | None) -> list[str]:
    """The comma-separated ``status`` filter as a list (default: every status but cancelled).

    Raises:
        Problem: 422 on ``status`` naming an unknown status.
    """
    statuses = [s for s in (status or "").split(",") if s] or [s for s in NEXT if s != "cancelled"]
    unknown = [s for s in statuses if s not in NEXT]
    if unknown:
        raise invalid("status", f"unknown status: {', '.join(unknown)}")
    return statuses


def export_shipping(
    request: Any, actor: Actor, org_id: int, edition_id: int | None, status: str | None
) -> AsyncIterator[bytes]:
    """The shipping list of unit ``org_id`` as streamed CSV (:func:`shipping_rows`);
    ``status`` is a comma-separated list (default: every status but cancelled). Audited as
    ``linksaktiv.shipping_exported`` with the people in the file, once it has gone out.

    Raises:
        Problem: 422 on ``status`` naming an unknown status.
    """
    statuses = _statuses(status)
    shown: list[int] = []
    filters = {"edition": edition_id, "status": statuses}
    record_list(request, "linksaktiv.shipping_exported", actor, org_id, shown, filters)
    return shipping_rows(org_id, edition_id, statuses, shown=shown)


async def export_shipping_xlsx(
    request: Any, actor: Actor, org_id: int, edition_id: int | None, status: str | None
) -> bytes:
    """The shipping list of :func:`export_shipping` as an XLSX workbook (every cell
    formula-safe), audited the same way.

    Raises:
        Problem: 422 on ``status`` naming an unknown status.
    """
    statuses = _statuses(status)
    shown: list[int] = []
    book = XlsxWriter("shipping")
    book.writerow(SHIPPING_COLUMNS)
    async for rows in shipping_records(org_id, edition_id, statuses, shown=shown):
        for row in rows:
            book.writerow(row)
    filters = {"edition": edition_id, "status": statuses, "format": "xlsx"}
    record_list(request, "linksaktiv.shipping_exported", actor, org_id, shown, filters)
    return book.finish()


async def shipping_rows(
    org_id: int,
    edition_id: int | None,
    statuses: list[str],
    batch: int = 5000,
    shown: list[int] | None = None,
) -> AsyncIterator[bytes]:
    """The shipping list as CSV (core's formula-safe writer), read in keyset batches so memory
    stays flat; the ids of the people written go to ``shown`` (for the audit row written
    after the stream)."""
    writer = CsvWriter()
    writer.writerow(SHIPPING_COLUMNS)
    yield writer.take().encode()
    async for rows in shipping_records(org_id, edition_id, statuses, batch, shown):
        for row in rows:
            writer.writerow(row)
        yield writer.take().encode()


async def shipping_records(
    org_id: int,
    edition_id: int | None,
    statuses: list[str],
    batch: int = 5000,
    shown: list[int] | None = None,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The shipping list's rows (``SHIPPING_COLUMNS``) in keyset batches of ``batch``; the
    ids of the people in them go to ``shown``."""
    last = 0
    where = "o.org_id = {} AND o.delivery = 'shipping' AND o.id > {}"
    extra: list[Any] = []
    if edition_id is not None:
        where += " AND o.edition_id = {}"
        extra.append(edition_id)
    if statuses:
        where += f" AND o.status IN ({', '.join(['{}'] * len(statuses))})"
        extra += statuses
    while True:
        rows = await db.fetch(
            "SELECT o.id, o.person_id, e.title, p.first_name, p.last_name, p.street, "
            "p.postal_code, p.city, p.country, o.quantity, e.bundle_size, o.status "
            "FROM linksaktiv_order o "
            "JOIN linksaktiv_edition e ON e.id = o.edition_id "
            f"JOIN person p ON p.id = o.person_id WHERE {where} ORDER BY o.id LIMIT {{}}",
            org_id,
            last,
            *extra,
            batch,
        )
        if not rows:
            return
        if shown is not None:
            shown.extend(r["person_id"] for r in rows)
        yield [
            (
                r["id"],
                r["title"],
                r["first_name"],
                r["last_name"],
                r["street"],
                r["postal_code"],
                r["city"],
                r["country"],
                r["quantity"],
                -(-r["quantity"] // r["bundle_size"]),
                r["bundle_size"],
                r["status"],
            )
            for r in rows
        ]
        last = rows[-1]["id"]


async def pickup_rows(
    org_id: int, edition_id: int, limit: int | None = None, after: tuple | None = None
) -> list[dict[str, Any]]:
    """The edition's pickup orders with their office (address, opening hours), by office
    name, office, last name and order id; ``after`` (such a sort key) and ``limit`` make a
    keyset page of them."""
    args: list[Any] = [org_id, edition_id]
    sql = (
        "SELECT o.id AS order_id, o.person_id, p.first_name, p.last_name, o.quantity AS copies, "
        "o.status, o.pickup_org_id AS office_org_id, u.name AS office, u.office AS place "
        "FROM linksaktiv_order o JOIN org_unit u ON u.id = o.pickup_org_id "
        "JOIN person p ON p.id = o.person_id WHERE o.org_id = {} AND o.edition_id = {} "
        "AND o.delivery = 'pickup' AND o.status <> 'cancelled'"
    )
    if after is not None:
        sql += " AND (u.name, o.pickup_org_id, p.last_name, o.id) > ({}, {}, {}, {})"
        args += after
    sql += " ORDER BY u.name, o.pickup_org_id, p.last_name, o.id"
    if limit is not None:
        sql += " LIMIT {}"
        args.append(limit)
    rows = await db.fetch(sql, *args)
    for row in rows:
        place = db.json_value(row.pop("place")) or {}
        row["address"] = place.get("address")
        row["opening_hours"] = place.get("opening_hours")
    return rows


def _audit_pickup(
    request: Any, actor: Actor, org_id: int, edition_id: int, rows: list[dict[str, Any]]
) -> None:
    record_list(
        request,
        "linksaktiv.pickup_listed",
        actor,
        org_id,
        [r["person_id"] for r in rows],
        object_type="edition",
        object_id=edition_id,
    )


async def read_pickup(
    request: Any, actor: Actor, org_id: int, edition_id: int, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of :func:`pickup_rows`, audited as ``linksaktiv.pickup_listed`` with the
    people in it (written after the answer).

    Raises:
        Problem: 422 on ``limit`` out of range, on ``cursor`` not of this list.
    """
    check_limit(limit)
    after = decode_cursor(cursor, tuple[str, int, str, int])
    rows = await pickup_rows(org_id, edition_id, limit + 1, after)
    page = page_of(
        rows,
        limit,
        key=lambda r: [r["office"], r["office_org_id"], r["last_name"], r["order_id"]],
    )
    _audit_pickup(request, actor, org_id, edition_id, page.items)
    return page


async def read_pickup_list(
    request: Any, actor: Actor, org_id: int, edition_id: int
) -> list[dict[str, Any]]:
    """Every row of :func:`pickup_rows` (the lists to print), audited as
    ``linksaktiv.pickup_listed`` with the people in them."""
    rows = await pickup_rows(org_id, edition_id)
    _audit_pickup(request, actor, org_id, edition_id, rows)
    return rows


PICKUP_COLUMNS = (
    "office_org_id",
    "office",
    "address",
    "opening_hours",
    "order_id",
    "first_name",
    "last_name",
    "copies",
    "status",
)


async def pickup_csv(request: Any, actor: Actor, org_id: int, edition_id: int) -> bytes:
    """The pickup lists as one CSV to print per office (:func:`read_pickup_list`'s rows and
    audit; formula-safe)."""
    writer = CsvWriter()
    writer.writerow(PICKUP_COLUMNS)
    for row in await read_pickup_list(request, actor, org_id, edition_id):
        writer.writerow([row[column] for column in PICKUP_COLUMNS])
    return writer.take().encode()


def _codes_of(low: str, high: str, limit: int = 2000) -> list[str]:
    """The codes of a numeric range (at most ``limit``; a wider range is listed by its ends)."""
    if not (low.isdecimal() and high.isdecimal()) or int(high) - int(low) >= limit:
        return [low] if low == high else [f"{low}-{high}"]
    return [f"{n:0{len(low)}d}" for n in range(int(low), int(high) + 1)]


async def distribution_report(org_path: str, edition_id: int | None) -> list[dict[str, Any]]:
    """Per unit of the subtree: copies distributed per postal code, and the unit's covered
    postal codes where nothing was distributed (coverage gaps)."""
    within, within_args = subtree_sql("path", org_path)
    units = await db.fetch(
        f"SELECT id, name, path FROM org_unit WHERE {within} ORDER BY path", *within_args
    )
    ids = [u["id"] for u in units]
    coverage = await Coverage.load(ids)
    marks = ", ".join(["{}"] * len(ids))
    args: list[Any] = list(ids)
    sql = (
        "SELECT o.distributed_postal_code AS code, p.home_org_id, SUM(o.distributed) AS copies "
        "FROM linksaktiv_order o JOIN person p ON p.id = o.person_id "
        f"WHERE o.status = 'distributed' AND p.home_org_id IN ({marks})"
    )
    if edition_id is not None:
        sql += " AND o.edition_id = {}"
        args.append(edition_id)
    sql += " GROUP BY o.distributed_postal_code, p.home_org_id"
    per_unit: dict[int, dict[str, int]] = {u: {} for u in ids}
    for row in await db.fetch(sql, *args):
        unit = coverage.resolve(row["code"]) or row["home_org_id"]
        codes = per_unit.setdefault(unit, {})
        codes[row["code"]] = codes.get(row["code"], 0) + int(row["copies"] or 0)
    covered: dict[int, list[str]] = {u: [] for u in ids}
    for row in await db.fetch(
        f"SELECT org_id, code_from, code_to FROM org_postcode WHERE org_id IN ({marks}) "
        "ORDER BY code_from",
        *ids,
    ):
        covered[row["org_id"]] += _codes_of(row["code_from"], row["code_to"])
    anywhere = {code for codes in per_unit.values() for code in codes}
    report = []
    for unit in units:
        done = per_unit.get(unit["id"], {})
        report.append(
            {
                "org_id": unit["id"],
                "name": unit["name"],
                "distributed": sum(done.values()),
                "postal_codes": [{"postal_code": c, "copies": n} for c, n in sorted(done.items())],
                "gaps": [c for c in covered[unit["id"]] if c not in anywhere],
            }
        )
    return report
