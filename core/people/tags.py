"""Tags and custom fields, both defined per org unit and visible in its subtree."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import msgspec

from core import db
from core.etags import touch
from core.orgs.paths import path_under_sql
from core.pagination import Page, check_limit, decode_cursor, page_of
from core.people.schemas import CustomFieldIn, CustomFieldOut
from core.people.tables import CustomField, Person, PersonTag, Tag
from core.problems import conflict, invalid

__all__ = [
    "add_tags",
    "check_custom_fields",
    "create_custom_field",
    "custom_fields_for",
    "custom_fields_page",
    "set_tags",
    "tags_of",
    "visible_definitions_sql",
]


def visible_definitions_sql(table: str) -> str:
    """Rows of ``table`` defined on the unit with path ``{}`` or an ancestor of it."""
    return (
        f"SELECT d.* FROM {table} d JOIN org_unit o ON o.id = d.org_id "
        f"WHERE {path_under_sql('CAST({} AS TEXT)', 'o.path')}"
    )


async def _tag_ids(org_id: int, org_path: str, names: list[str]) -> dict[str, int]:
    """Ids of the tags visible at the unit by name; new names are defined on the unit."""
    visible = {
        row["name"]: row["id"]
        for row in await db.fetch(visible_definitions_sql("tag"), org_path)
        if row["name"] in names
    }
    for name in names:
        if name not in visible:
            rows = await Tag.insert(Tag(org=org_id, name=name)).run()
            visible[name] = rows[0]["id"]
    return visible


def _clean(names: list[str]) -> list[str]:
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


async def set_tags(person_id: int, org_id: int, org_path: str, names: list[str]) -> None:
    """Replace the person's tags (a new version of the person). Names resolve to tags visible
    at the unit; new names are defined on the unit itself."""
    await PersonTag.delete().where(PersonTag.person == person_id).run()
    await touch(Person, [person_id])
    names = _clean(names)
    if not names:
        return
    ids = await _tag_ids(org_id, org_path, names)
    await PersonTag.insert(*[PersonTag(person=person_id, tag=ids[n]) for n in names]).run()


async def add_tags(person_id: int, org_id: int, org_path: str, names: list[str]) -> None:
    """Add tags to the person, keeping the ones they have (resolved as in :func:`set_tags`; a
    new version of the person when one is new)."""
    names = _clean(names)
    if not names:
        return
    ids = await _tag_ids(org_id, org_path, names)
    have = {
        row["tag_id"]
        for row in await db.fetch("SELECT tag_id FROM person_tag WHERE person_id = {}", person_id)
    }
    new = [PersonTag(person=person_id, tag=ids[n]) for n in names if ids[n] not in have]
    if new:
        await PersonTag.insert(*new).run()
        await touch(Person, [person_id])


async def tags_of(person_ids: list[int]) -> dict[int, list[str]]:
    """Tag names per person."""
    if not person_ids:
        return {}
    marks = ", ".join(["{}"] * len(person_ids))
    result: dict[int, list[str]] = defaultdict(list)
    for row in await db.fetch(
        f"SELECT pt.person_id, t.name FROM person_tag pt JOIN tag t ON t.id = pt.tag_id "
        f"WHERE pt.person_id IN ({marks}) ORDER BY t.name",
        *person_ids,
    ):
        result[row["person_id"]].append(row["name"])
    return result


_KIND_TYPES: dict[str, Any] = {
    "text": str,
    "number": float,
    "date": date,
    "boolean": bool,
    "choice": str,
}


def _field_out(row: dict[str, Any]) -> CustomFieldOut:
    return CustomFieldOut(
        id=row["id"],
        org_id=row.get("org_id", row.get("org")),
        key=row["key"],
        label=row["label"],
        kind=row["kind"],
        choices=db.json_value(row["choices"]),
    )


async def custom_fields_page(org_path: str, limit: int, cursor: str | None) -> Page[CustomFieldOut]:
    """A keyset page (by id) of the custom fields defined on the unit at ``org_path`` or above.

    Raises:
        Problem: 422 on ``limit`` out of range, on ``cursor`` not of this list.
    """
    check_limit(limit)
    key = decode_cursor(cursor)
    after = int(key[0]) if key else 0
    rows = await db.fetch(
        visible_definitions_sql("custom_field") + " AND d.id > {} ORDER BY d.id LIMIT {}",
        org_path,
        after,
        limit + 1,
    )
    page = page_of(rows, limit, key=lambda r: [r["id"]])
    return Page([_field_out(r) for r in page.items], page.next_cursor)


async def _definitions_for(home_org_id: int) -> list[dict[str, Any]]:
    home = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", home_org_id)
    assert home is not None
    return await db.fetch(visible_definitions_sql("custom_field") + " ORDER BY d.id", home["path"])


async def custom_fields_for(home_org_id: int) -> list[CustomFieldOut]:
    """The custom fields a person whose home unit is ``home_org_id`` may have (defined there
    or above), by id: what a person form shows."""
    return [_field_out(row) for row in await _definitions_for(home_org_id)]


async def create_custom_field(org_id: int, data: CustomFieldIn) -> CustomFieldOut:
    """Define a custom field for the people of unit ``org_id``'s subtree.

    Raises:
        Problem: 409 on ``choices`` for a choice field without them, on ``key`` for a key the
            unit has already.
    """
    if data.kind == "choice" and not data.choices:
        raise conflict("A choice field needs choices.", field="choices")
    if (
        await CustomField.exists()
        .where((CustomField.org == org_id) & (CustomField.key == data.key))
        .run()
    ):
        raise conflict(f"The field '{data.key}' exists already.", field="key")
    rows = await CustomField.insert(
        CustomField(
            org=org_id, key=data.key, label=data.label, kind=data.kind, choices=data.choices
        )
    ).run()
    row = await CustomField.select().where(CustomField.id == rows[0]["id"]).first().run()
    return _field_out(row)


async def check_custom_fields(home_org_id: int, values: dict[str, Any]) -> None:
    """Every key must be a field defined at the home unit or above, with a value of its kind."""
    if not values:
        return
    definitions = {row["key"]: row for row in await _definitions_for(home_org_id)}
    for key, value in values.items():
        field = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None:
            raise invalid(field, "no such custom field for this person's unit")
        if value is None:
            continue
        try:
            msgspec.convert(value, _KIND_TYPES[definition["kind"]], strict=False)
        except msgspec.ValidationError as exc:
            raise invalid(field, f"expected a {definition['kind']} value") from exc
        if definition["kind"] == "choice":
            choices = db.json_value(definition["choices"])
            if value not in (choices or []):
                raise invalid(field, f"must be one of {', '.join(choices or [])}")
