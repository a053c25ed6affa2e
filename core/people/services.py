"""People services: create, change, load (no N+1), scope checks and search.

Every query for people goes through :func:`scope`, the one scoping function: a person is
visible at a unit when their home unit lies in that unit's subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from email_validator import EmailNotValidError, validate_email

from core import db
from core.audit.services import record, record_list, search_digest
from core.orgs.paths import is_under, subtree_ids
from core.orgs.services import get_unit
from core.pagination import Page, decode_cursor, page_of
from core.people import consent, tags
from core.people.phones import normalize_phone
from core.people.schemas import PERSON_FIELDS, PersonDetail, PersonIn, PersonOut, PersonPatch
from core.people.tables import Person, PersonPhone
from core.problems import invalid, not_found
from core.tables import utcnow

__all__ = [
    "SegmentWhere",
    "create_person",
    "get_person_row",
    "get_person_rows",
    "list_filter",
    "list_people",
    "load_people",
    "name_keys",
    "normalize_email_address",
    "person_detail",
    "read_people_page",
    "read_person",
    "scope",
    "subtree_ids",
    "update_person",
]

_PLAIN_FIELDS = (*PERSON_FIELDS, "do_not_contact")


@dataclass(frozen=True)
class SegmentWhere:
    """A segment to narrow a people list to, compiled
    (:func:`core.segments.compiler.segment_where`): its predicate on ``p`` with the unit's
    scope already in it, the arguments, and the definition (JSON data) for the audit row."""

    sql: str
    args: list[Any]
    definition: dict[str, Any]


def ids_condition(column: str, ids: list[int]) -> tuple[str, list[int]]:
    """``column IN (…)`` for a list of ids (``1 = 0`` for none)."""
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['{}'] * len(ids))})", list(ids)


async def scope(org_path: str, alias: str = "p") -> tuple[str, list[int]]:
    """The one scoping condition: the person's home unit lies in the subtree of ``org_path``.

    The unit ids are listed explicitly, so the database plans with real statistics (a
    subquery on the path made PostgreSQL guess one unit and loop over the people table).
    """
    return ids_condition(f"{alias}.home_org_id", await subtree_ids(org_path))


def name_keys(first: str, last: str) -> tuple[str, str]:
    """Lower-cased ``first last`` and ``last first`` for prefix search."""
    first, last = first.strip().lower(), last.strip().lower()
    return f"{first} {last}".strip(), f"{last} {first}".strip()


def normalize_email_address(email: str | None, field: str = "email") -> str | None:
    """Check the syntax and normalize (lower-case); ``None`` stays ``None``."""
    if email is None or not email.strip():
        return None
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise invalid(field, str(exc)) from exc
    return result.normalized.lower()


def normalize_phones(phones: list[str], region: str) -> list[str]:
    """E.164 for each number; a number that cannot be read is a 422 naming its index."""
    result: list[str] = []
    for index, raw in enumerate(phones):
        e164 = normalize_phone(raw, region)
        if e164 is None:
            raise invalid(f"phones[{index}]", f"'{raw}' is not a phone number")
        if e164 not in result:
            result.append(e164)
    return result


async def _check_home(home_org_id: int, org_path: str) -> None:
    unit = await get_unit(home_org_id)
    if unit is None or not is_under(unit["path"], org_path):
        raise invalid("home_org_id", "no such org unit in this subtree")


async def _write_phones(person_id: int, phones: list[str]) -> None:
    """Replace the person's numbers (triggers keep ``person.has_phone`` in step)."""
    await PersonPhone.delete().where(PersonPhone.person == person_id).run()
    if phones:
        await PersonPhone.insert(
            *[PersonPhone(person=person_id, e164=p, position=i) for i, p in enumerate(phones)]
        ).run()


async def create_person(
    org_id: int, org_path: str, data: PersonIn, region: str, consent_source: str | None = None
) -> int:
    """Insert a person with phones, tags and consents in one transaction with its audit row;
    returns the id."""
    values = {f: getattr(data, f) for f in _PLAIN_FIELDS}
    values["email"] = normalize_email_address(data.email)
    phones = normalize_phones(data.phones, region)
    home = data.home_org_id or org_id
    if home != org_id:
        await _check_home(home, org_path)
    await tags.check_custom_fields(home, data.custom_fields)
    first_key, last_key = name_keys(data.first_name, data.last_name)
    async with db.transaction():
        rows = await Person.insert(
            Person(
                **values,
                home_org=home,
                first_key=first_key,
                last_key=last_key,
                custom_fields=data.custom_fields,
            )
        ).run()
        person_id = rows[0]["id"]
        await _write_phones(person_id, phones)
        await tags.set_tags(person_id, org_id, org_path, data.tags)
        for entry in data.consents:
            await consent.record_consent(person_id, entry, default_source=consent_source)
        await record("person.created", object_type="person", object_id=person_id, org_id=org_id)
    return person_id


async def update_person(
    person_id: int, org_id: int, org_path: str, patch: PersonPatch, region: str
) -> None:
    """Apply a patch (audited); lists replace, consents append to the history."""
    values: dict[str, Any] = {
        f: getattr(patch, f) for f in _PLAIN_FIELDS if getattr(patch, f) is not msgspec.UNSET
    }
    if "email" in values:
        values["email"] = normalize_email_address(values["email"])
    if patch.pending is not msgspec.UNSET:
        values["pending"] = False
    if patch.home_org_id is not msgspec.UNSET:
        await _check_home(patch.home_org_id, org_path)
        values["home_org_id"] = patch.home_org_id
    if patch.custom_fields is not msgspec.UNSET:
        row = await get_person_row(person_id)
        assert row is not None
        home = values.get("home_org_id", row["home_org_id"])
        await tags.check_custom_fields(home, patch.custom_fields)
        values["custom_fields"] = msgspec.json.encode(patch.custom_fields).decode()
    phones = None if patch.phones is msgspec.UNSET else normalize_phones(patch.phones, region)
    async with db.transaction():
        if "first_name" in values or "last_name" in values:
            row = await get_person_row(person_id)
            assert row is not None
            first = values.get("first_name", row["first_name"])
            last = values.get("last_name", row["last_name"])
            values["first_key"], values["last_key"] = name_keys(first, last)
        if values:
            values["updated_at"] = utcnow()
            columns = ", ".join(f"{name} = {{}}" for name in values)
            await db.execute(
                f"UPDATE person SET {columns} WHERE id = {{}}", *values.values(), person_id
            )
        if phones is not None:
            await _write_phones(person_id, phones)
        if patch.tags is not msgspec.UNSET:
            await tags.set_tags(person_id, org_id, org_path, patch.tags)
        if patch.consents is not msgspec.UNSET:
            for entry in patch.consents:
                await consent.record_consent(person_id, entry)
        await record("person.changed", object_type="person", object_id=person_id, org_id=org_id)


async def get_person_row(person_id: int, org_path: str | None = None) -> dict[str, Any] | None:
    """The person's row; with ``org_path`` only when visible in that subtree."""
    if org_path is None:
        return await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)
    condition, args = await scope(org_path)
    return await db.fetch_one(
        f"SELECT p.* FROM person p WHERE p.id = {{}} AND {condition}", person_id, *args
    )


async def get_person_rows(person_ids: list[int], org_path: str) -> list[dict[str, Any]]:
    """The rows of the people ``person_ids`` visible in the subtree of ``org_path``, by id."""
    if not person_ids:
        return []
    condition, args = await scope(org_path)
    marks = ", ".join(["{}"] * len(person_ids))
    return await db.fetch(
        f"SELECT p.* FROM person p WHERE p.id IN ({marks}) AND {condition} ORDER BY p.id",
        *person_ids,
        *args,
    )


async def load_people(rows: list[dict[str, Any]]) -> list[PersonOut]:
    """Person rows → API shapes, with phones, tags and consents in three queries in total."""
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    marks = ", ".join(["{}"] * len(ids))
    phones: dict[int, list[str]] = {i: [] for i in ids}
    for row in await db.fetch(
        f"SELECT person_id, e164 FROM person_phone WHERE person_id IN ({marks}) AND valid "
        "ORDER BY person_id, position",
        *ids,
    ):
        phones[row["person_id"]].append(row["e164"])
    tag_names = await tags.tags_of(ids)
    consents = await consent.current_consents(ids)
    return [
        PersonOut(
            id=row["id"],
            **{f: row[f] for f in _PLAIN_FIELDS if f != "do_not_contact"},
            do_not_contact=bool(row["do_not_contact"]),
            phones=phones[row["id"]],
            home_org_id=row["home_org_id"],
            tags=tag_names.get(row["id"], []),
            consents=consents.get(row["id"], []),
            custom_fields=db.json_value(row["custom_fields"]) or {},
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            pending=bool(row.get("pending")),
        )
        for row in rows
    ]


def _prefix(column: str) -> tuple[str, int]:
    """SQL for "``column`` starts with the parameter", using an index on both databases."""
    if db.is_postgres():
        return f"{column} LIKE {{}} ESCAPE '\\'", 1
    return f"({column} >= {{}} AND {column} < {{}})", 2


def _prefix_args(value: str, count: int) -> list[str]:
    if count == 1:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [escaped + "%"]
    return [value, value + "\U0010ffff"]


def search_kind(q: str) -> str:
    """What ``?q=`` searches: ``email``, ``phone``, ``postal_code`` or ``name`` (a prefix)."""
    q = " ".join(q.split())
    if "@" in q:
        return "email"
    digits = sum(ch.isdigit() for ch in q)
    if digits >= 6 and all(ch.isdigit() or ch in "+-/() " for ch in q):
        return "phone"
    return "postal_code" if q.isdigit() else "name"


def search_condition(q: str, region: str) -> tuple[str, list[Any]]:
    """Turn ``?q=`` into one indexed condition: e-mail, phone, postal code or name prefix."""
    q = " ".join(q.split())
    kind = search_kind(q)
    if kind == "email":
        sql, n = _prefix("p.email")
        return sql, _prefix_args(q.lower(), n)
    if kind == "phone":
        e164 = normalize_phone(q, region) or "+" + "".join(ch for ch in q if ch.isdigit())
        sql, n = _prefix("e164")
        return (f"p.id IN (SELECT person_id FROM person_phone WHERE {sql})", _prefix_args(e164, n))
    if kind == "postal_code":
        sql, n = _prefix("p.postal_code")
        return sql, _prefix_args(q, n)
    first_sql, n = _prefix("p.first_key")
    last_sql, _ = _prefix("p.last_key")
    value = q.lower()
    return f"({first_sql} OR {last_sql})", _prefix_args(value, n) + _prefix_args(value, n)


async def list_people(
    org_path: str,
    *,
    q: str | None,
    member_status: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
    region: str,
    segment: SegmentWhere | None = None,
) -> Page[PersonOut]:
    """A keyset page of the people visible at the unit, filtered and searched; only those of
    ``segment`` when given (its predicate replaces the scope, which it holds)."""
    condition, scope_args = (segment.sql, segment.args) if segment else await scope(org_path)
    where = [condition]
    args: list[Any] = list(scope_args)
    if q:
        condition, extra = search_condition(q, region)
        where.append(condition)
        args += extra
    if member_status:
        where.append("p.member_status = {}")
        args.append(member_status)
    if tag:
        where.append(
            "p.id IN (SELECT pt.person_id FROM person_tag pt JOIN tag t "
            "ON t.id = pt.tag_id WHERE t.name = {})"
        )
        args.append(tag)
    key = decode_cursor(cursor)
    if key is not None:
        where.append("p.id > {}")
        args.append(int(key[0]))
    rows = await db.fetch(
        f"SELECT p.* FROM person p WHERE {' AND '.join(where)} ORDER BY p.id LIMIT {{}}",
        *args,
        limit + 1,
    )
    page = page_of(rows, limit, key=lambda r: [r["id"]])
    return Page(items=await load_people(page.items), next_cursor=page.next_cursor)


def list_filter(
    q: str | None,
    member_status: str | None,
    tag: str | None,
    segment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The list's filter as the audit log keeps it: the search as its kind and a keyed digest
    (never the text typed), status and tag as given, the segment's definition when given
    (as a segment preview keeps it)."""
    search = None if not q else {"kind": search_kind(q), "digest": search_digest(q)}
    found: dict[str, Any] = {"q": search, "member_status": member_status, "tag": tag}
    if segment is not None:
        found["segment"] = segment
    return found


async def require_person(person_id: int, org_path: str) -> dict[str, Any]:
    """The person's row if visible at the unit, else 404."""
    row = await get_person_row(person_id, org_path)
    if row is None:
        raise not_found("person")
    return row


async def read_person(person_id: int, org_id: int, org_path: str) -> dict[str, Any]:
    """The person's row for someone reading their details in unit ``org_id`` (404 outside
    the subtree); the read is audited as ``person.read``."""
    row = await require_person(person_id, org_path)
    await record("person.read", object_type="person", object_id=person_id, org_id=org_id)
    return row


async def person_detail(row: dict[str, Any], org_id: int, registry: Any) -> PersonDetail:
    """The person with every module's ``person_summary`` for unit ``org_id``."""
    [person] = await load_people([row])
    summaries = dict(
        await registry.gather_each("person_summary", person_id=row["id"], org_id=org_id)
    )
    return PersonDetail(**msgspec.structs.asdict(person), summaries=summaries)


async def read_people_page(
    request: Any,
    actor: Any,
    org_id: int,
    org_path: str,
    *,
    q: str | None,
    member_status: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
    region: str,
    segment: SegmentWhere | None = None,
) -> Page[PersonOut]:
    """A page of :func:`list_people` for ``actor`` reading unit ``org_id``, audited as
    ``people.listed`` (the filter and the ids shown; written after the answer). The JSON
    route and the console page both read people lists through this."""
    page = await list_people(
        org_path,
        q=q,
        member_status=member_status,
        tag=tag,
        limit=limit,
        cursor=cursor,
        region=region,
        segment=segment,
    )
    shown = [person.id for person in page.items]
    filters = list_filter(q, member_status, tag, segment.definition if segment else None)
    record_list(request, "people.listed", actor, org_id, shown, filters)
    return page
