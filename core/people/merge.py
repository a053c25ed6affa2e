"""Duplicates (same e-mail, same phone, same full name and postal code) and merging people."""

from __future__ import annotations

from typing import Any

from core import db
from core.audit.services import record, record_list
from core.modules import ModuleRegistry
from core.pagination import Page, check_limit, decode_cursor, encode_cursor
from core.people.schemas import PERSON_FIELDS
from core.people.services import name_keys, scope
from core.problems import invalid
from core.tables import utcnow

__all__ = ["MERGEABLE_FIELDS", "find_duplicates", "merge_people", "read_duplicates"]

MERGEABLE_FIELDS = (*PERSON_FIELDS, "home_org_id")
_REASONS = {
    "email": ("p.email", "p.email IS NOT NULL"),
    "phone": ("ph.e164", "ph.valid"),
    # first and last name (``first_key``, lower-cased by Python, not by SQLite's ASCII-only
    # lower()): a family name and a postal code alone put whole streets into one group
    "name_postal_code": (
        "p.first_key || '|' || p.postal_code",
        "p.postal_code IS NOT NULL AND p.last_name <> ''",
    ),
}


async def read_duplicates(
    request: Any, actor: Any, org_id: int, org_path: str, limit: int, cursor: str | None
) -> tuple[Page[dict[str, Any]], list[int]]:
    """A page of :func:`find_duplicates` for ``actor`` reading unit ``org_id``, and the ids of
    the people in it (each once), audited as ``people.duplicates_listed`` (written after the
    answer). The JSON route and the console page both read duplicates through this.

    Raises:
        Problem: 422 on ``limit`` out of range, on ``cursor`` not of this list.
    """
    page = await find_duplicates(org_path, check_limit(limit), cursor)
    shown = list(dict.fromkeys(i for group in page.items for i in group["person_ids"]))
    record_list(request, "people.duplicates_listed", actor, org_id, shown)
    return page, shown


async def find_duplicates(org_path: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """Groups of people in the subtree that share an e-mail, a phone, or first and last name
    and postal code.

    Pages run through the reasons in turn, each ordered by its key (keyset).
    """
    reason_index, after = decode_cursor(cursor, tuple[int, str]) or (0, "")
    groups: list[dict[str, Any]] = []
    reasons = list(_REASONS)
    in_scope, scope_args = await scope(org_path)
    while reason_index < len(reasons) and len(groups) <= limit:
        reason = reasons[reason_index]
        expr, condition = _REASONS[reason]
        join = "JOIN person_phone ph ON ph.person_id = p.id" if reason == "phone" else ""
        rows = await db.fetch(
            f"SELECT {expr} AS k, COUNT(DISTINCT p.id) AS n FROM person p {join} "
            f"WHERE {in_scope} AND {condition} AND {expr} > {{}} "
            f"GROUP BY {expr} HAVING COUNT(DISTINCT p.id) > 1 ORDER BY {expr} LIMIT {{}}",
            *scope_args,
            after,
            limit + 1 - len(groups),
        )
        for row in rows:
            ids = await db.fetch(
                f"SELECT DISTINCT p.id FROM person p {join} WHERE {in_scope} AND {expr} = {{}} "
                "ORDER BY p.id",
                *scope_args,
                row["k"],
            )
            groups.append(
                {
                    "reason": reason,
                    "key": row["k"],
                    "person_ids": [r["id"] for r in ids],
                    "_cursor": [reason_index, row["k"]],
                }
            )
        if len(groups) <= limit:
            reason_index, after = reason_index + 1, ""
    next_cursor = None
    if len(groups) > limit:
        groups = groups[:limit]
        next_cursor = encode_cursor(groups[-1]["_cursor"])
    for group in groups:
        del group["_cursor"]
    return Page(items=groups, next_cursor=next_cursor)


async def merge_people(
    kept_id: int,
    merged_ids: list[int],
    overrides: dict[str, int],
    org_path: str,
    registry: ModuleRegistry,
    org_id: int | None = None,
) -> None:
    """Merge ``merged_ids`` into ``kept_id`` in one transaction, audited as ``person.merged``
    in unit ``org_id`` (by whoever the current request acts as).

    Fields named in ``overrides`` take the value of the given person; other empty fields of the
    kept person are filled from the merged ones; tags, phones, consent history and link keys
    are united (the result is pending only if everyone was);
    every module moves its rows through ``people_merged``; the merged people are deleted.
    """
    everyone = [kept_id, *merged_ids]
    if kept_id in merged_ids or len(set(merged_ids)) != len(merged_ids):
        raise invalid("merged_ids", "must be distinct and not contain kept_id")
    for field, source in overrides.items():
        if field not in MERGEABLE_FIELDS:
            raise invalid(f"overrides.{field}", "this field cannot be chosen")
        if source not in everyone:
            raise invalid(f"overrides.{field}", "must name one of the merged people")
    marks = ", ".join(["{}"] * len(everyone))
    in_scope, scope_args = await scope(org_path)
    async with db.transaction():
        rows = await db.fetch(
            f"SELECT p.* FROM person p WHERE p.id IN ({marks}) AND {in_scope}",
            *everyone,
            *scope_args,
        )
        by_id = {row["id"]: row for row in rows}
        missing = [pid for pid in everyone if pid not in by_id]
        if missing:
            raise invalid("merged_ids", f"unknown people: {missing}")
        kept = by_id[kept_id]
        values: dict[str, Any] = {}
        for field in MERGEABLE_FIELDS:
            if field in overrides:
                values[field] = by_id[overrides[field]][field]
            elif kept[field] in (None, ""):
                filled = next(
                    (by_id[m][field] for m in merged_ids if by_id[m][field] not in (None, "")), None
                )
                if filled is not None:
                    values[field] = filled
        values["do_not_contact"] = any(bool(by_id[p]["do_not_contact"]) for p in everyone)
        values["pending"] = all(bool(by_id[p]["pending"]) for p in everyone)
        first = values.get("first_name", kept["first_name"])
        last = values.get("last_name", kept["last_name"])
        values["first_key"], values["last_key"] = name_keys(first, last)
        values["updated_at"] = utcnow()
        merged_marks = ", ".join(["{}"] * len(merged_ids))
        for merged_id in merged_ids:
            await registry.gather("people_merged", kept_id=kept_id, merged_id=merged_id)
        await db.execute(
            f"UPDATE consent_event SET person_id = {{}} WHERE person_id IN ({merged_marks})",
            kept_id,
            *merged_ids,
        )
        await db.execute(
            "INSERT INTO person_tag (person_id, tag_id) "
            "SELECT DISTINCT CAST({} AS INTEGER), tag_id FROM person_tag "
            f"WHERE person_id IN ({merged_marks}) AND tag_id NOT IN "
            "(SELECT tag_id FROM person_tag WHERE person_id = {})",
            kept_id,
            *merged_ids,
            kept_id,
        )
        known = {
            r["e164"]
            for r in await db.fetch("SELECT e164 FROM person_phone WHERE person_id = {}", kept_id)
        }
        extra = await db.fetch(
            f"SELECT e164, valid FROM person_phone WHERE person_id IN ({merged_marks}) "
            "ORDER BY person_id, position",
            *merged_ids,
        )
        for position, phone in enumerate(extra, start=len(known)):
            if phone["e164"] not in known:
                known.add(phone["e164"])
                await db.execute(
                    "INSERT INTO person_phone (person_id, e164, valid, position) "
                    "VALUES ({}, {}, {}, {})",
                    kept_id,
                    phone["e164"],
                    bool(phone["valid"]),
                    position,
                )
        await db.execute(  # links mailed to the merged records keep working (same human)
            f"UPDATE person_link_key SET person_id = {{}} WHERE person_id IN ({merged_marks})",
            kept_id,
            *merged_ids,
        )
        await db.execute(
            f"UPDATE orga_user SET person_id = {{}} WHERE person_id IN ({merged_marks})",
            kept_id,
            *merged_ids,
        )
        await db.execute(f"DELETE FROM person WHERE id IN ({merged_marks})", *merged_ids)
        columns = ", ".join(f"{name} = {{}}" for name in values)
        await db.execute(f"UPDATE person SET {columns} WHERE id = {{}}", *values.values(), kept_id)
        await record(
            "person.merged",
            object_type="person",
            object_id=kept_id,
            org_id=org_id,
            detail={"merged_ids": merged_ids},
        )
