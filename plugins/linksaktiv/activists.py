"""The activists of a region: the list organizers read (filters, keyset pages) and its
download, both audited.

The list is keyed by person id (``linksaktiv_activist.person_id``, unique): a page reads the
activist rows in that order, joins each person by primary key and keeps those whose home
unit lies in the subtree (core's ``scope``, the unit ids listed) and match the filters, so a
page costs about as many rows as it shows in a large region; the filters have their own
indexes (status, source, last activity, topic) for the small ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from core.api import (
    N_,
    Actor,
    Page,
    db,
    invalid,
    is_under,
    record_list,
    scope,
    spreadsheet_stream,
)
from plugins.linksaktiv.config import HELP_OPTIONS, SOURCES
from plugins.linksaktiv.lists import page_by_id
from plugins.linksaktiv.schemas import ActivistOut

__all__ = [
    "STATUSES",
    "ActivistFilter",
    "activist_filter",
    "export_activists",
    "read_activists",
    "unit_choices",
]

STATUSES = ("pending", "confirmed", "unsubscribed")
EXPORT_COLUMNS = (
    "person_id",
    "first_name",
    "last_name",
    "email",
    "postal_code",
    "unit",
    "status",
    "source",
    "help",
    "topics",
    "joined",
    "last_active",
)


@dataclass
class ActivistFilter:
    """What narrows the activist list: any of ``topics`` (slugs), any of ``help`` (ways to
    help), ``source``, ``status``, the subtree of unit ``unit_id`` and activity since
    ``active_since`` (a day)."""

    topics: list[str] = field(default_factory=list)
    help: list[str] = field(default_factory=list)
    source: str | None = None
    status: str | None = None
    unit_id: int | None = None
    active_since: date | None = None

    def codes(self) -> dict[str, Any]:
        """The filter for the audit row (empty parts left out)."""
        found = asdict(self)
        if self.active_since is not None:
            found["active_since"] = self.active_since.isoformat()
        return {k: v for k, v in found.items() if v not in (None, [])}


def activist_filter(
    topics: list[str] | None = None,
    help: list[str] | None = None,
    source: str | None = None,
    status: str | None = None,
    unit_id: str | int | None = None,
    active_since: str | None = None,
) -> ActivistFilter:
    """The filter from a form or query (empty values mean "any").

    Raises:
        Problem: 422 naming ``help``, ``source``, ``status``, ``unit_id`` or ``active_since``
            for a value that is none of the choices.
    """
    helps = sorted({h for h in help or [] if h})
    if any(h not in HELP_OPTIONS for h in helps):
        raise invalid("help", N_("Choose ways to help from the list."))
    if source and source not in SOURCES:
        raise invalid("source", N_("Choose a source from the list."))
    if status and status not in STATUSES:
        raise invalid("status", N_("Choose a status from the list."))
    unit = None
    if unit_id not in (None, ""):
        if not str(unit_id).isdecimal():
            raise invalid("unit_id", N_("Choose a unit from the list."))
        unit = int(unit_id)
    since = None
    if active_since:
        try:
            since = date.fromisoformat(active_since)
        except ValueError:
            raise invalid("active_since", N_("Enter a date.")) from None
    return ActivistFilter(
        topics=sorted({t for t in topics or [] if t}),
        help=helps,
        source=source or None,
        status=status or None,
        unit_id=unit,
        active_since=since,
    )


_SELECT = (
    "SELECT p.id, p.first_name, p.last_name, p.email, p.postal_code, p.home_org_id, "
    "a.status, a.source, a.help, a.created_at, a.last_active_at "
    "FROM linksaktiv_activist a JOIN person p ON p.id = a.person_id WHERE "
)


async def _where(org_path: str, chosen: ActivistFilter) -> tuple[str, list[Any]]:
    """The list's condition: the subtree (or the chosen unit's, which must lie in it) and
    the filters.

    Raises:
        Problem: 422 naming ``unit_id`` for a unit outside the subtree (or none).
    """
    path = org_path
    if chosen.unit_id is not None:
        row = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", chosen.unit_id)
        if row is None or not is_under(row["path"], org_path):
            raise invalid("unit_id", N_("Choose a unit from the list."))
        path = row["path"]
    condition, scoped = await scope(path)
    where, args = [condition], list(scoped)
    if chosen.status:
        where.append("a.status = {}")
        args.append(chosen.status)
    if chosen.source:
        where.append("a.source = {}")
        args.append(chosen.source)
    if chosen.help:
        # the ways to help are a JSON list of known words, none inside another
        where.append("(" + " OR ".join(["CAST(a.help AS TEXT) LIKE {}"] * len(chosen.help)) + ")")
        args += [f'%"{h}"%' for h in chosen.help]
    if chosen.topics:
        marks = ", ".join(["{}"] * len(chosen.topics))
        where.append(
            "EXISTS (SELECT 1 FROM linksaktiv_interest i JOIN linksaktiv_topic t "
            f"ON t.id = i.topic_id WHERE i.person_id = a.person_id AND t.slug IN ({marks}))"
        )
        args += chosen.topics
    if chosen.active_since:
        where.append("a.last_active_at >= {}")
        args.append(datetime.combine(chosen.active_since, time(), tzinfo=UTC))
    return " AND ".join(where), args


async def _topics_of(person_ids: list[int]) -> dict[int, list[str]]:
    """Topic slugs per person, in slug order."""
    ids = person_ids or [0]
    marks = ", ".join(["{}"] * len(ids))
    topics: dict[int, list[str]] = {}
    for r in await db.fetch(
        "SELECT i.person_id, t.slug FROM linksaktiv_interest i JOIN linksaktiv_topic t "
        f"ON t.id = i.topic_id WHERE i.person_id IN ({marks}) ORDER BY t.slug",
        *ids,
    ):
        topics.setdefault(r["person_id"], []).append(r["slug"])
    return topics


def _out(row: dict[str, Any], topics: dict[int, list[str]]) -> ActivistOut:
    return ActivistOut(
        person_id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        postal_code=row["postal_code"],
        home_org_id=row["home_org_id"],
        status=row["status"],
        source=row["source"],
        help=db.json_value(row["help"]) or [],
        topics=topics.get(row["id"], []),
        created_at=row["created_at"],
        last_active_at=row["last_active_at"],
    )


async def read_activists(
    request: Any,
    actor: Actor,
    org_id: int,
    org_path: str,
    chosen: ActivistFilter,
    limit: int,
    cursor: str | None,
) -> Page[ActivistOut]:
    """A keyset page (by person id) of the activists whose home unit is in the subtree of
    unit ``org_id`` (at ``org_path``) matching ``chosen``; audited as
    ``linksaktiv.activists_listed`` with the filter and the people shown (written after the
    answer).

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list, ``unit_id`` for a
            unit outside the subtree.
    """
    where, args = await _where(org_path, chosen)
    page = await page_by_id(_SELECT + where, args, "a.person_id", limit, cursor)
    people = [r["id"] for r in page.items]
    topics = await _topics_of(people)
    record_list(request, "linksaktiv.activists_listed", actor, org_id, people, chosen.codes())
    return Page([_out(r, topics) for r in page.items], page.next_cursor)


async def _rows(
    org_path: str, chosen: ActivistFilter, shown: list[int], batch: int = 2000
) -> AsyncIterator[list[Any]]:
    """Header, then one row per matching activist in person id order (keyset batches)."""
    where, args = await _where(org_path, chosen)
    units = {
        r["id"]: r["name"]
        for r in await db.fetch(
            "SELECT id, name FROM org_unit WHERE substr(path, 1, {}) = {}",
            len(org_path),
            org_path,
        )
    }
    yield list(EXPORT_COLUMNS)
    last = 0
    while True:
        rows = await db.fetch(
            _SELECT + where + " AND a.person_id > {} ORDER BY a.person_id LIMIT {}",
            *args,
            last,
            batch,
        )
        if not rows:
            return
        topics = await _topics_of([r["id"] for r in rows])
        for r in rows:
            shown.append(r["id"])
            yield [
                r["id"],
                r["first_name"],
                r["last_name"],
                r["email"],
                r["postal_code"],
                units.get(r["home_org_id"], ""),
                r["status"],
                r["source"],
                ", ".join(db.json_value(r["help"]) or []),
                ", ".join(topics.get(r["id"], [])),
                r["created_at"],
                r["last_active_at"],
            ]
        last = rows[-1]["id"]


async def export_activists(
    request: Any,
    actor: Actor,
    org_id: int,
    org_path: str,
    chosen: ActivistFilter,
    file_format: str,
) -> AsyncIterator[bytes]:
    """Every activist matching ``chosen`` as CSV or XLSX (``file_format``), each cell
    formula-safe (core's writers); audited as ``linksaktiv.activists_exported`` with the
    filter and the people in the file once it has gone out.

    Raises:
        Problem: 422 naming ``format`` or a filter field.
    """
    if file_format not in ("csv", "xlsx"):
        raise invalid("format", N_("csv or xlsx"))
    await _where(org_path, chosen)  # a wrong unit is a 422 before the download starts
    shown: list[int] = []
    filters = {**chosen.codes(), "format": file_format}
    record_list(request, "linksaktiv.activists_exported", actor, org_id, shown, filters)
    rows = _rows(org_path, chosen, shown)
    return spreadsheet_stream(rows, file_format, "activists")


async def unit_choices(org_path: str, limit: int = 500) -> list[dict[str, Any]]:
    """The units of the subtree at ``org_path`` (``id``, ``name``, ``path``, ``depth``), the
    unit itself first and each unit before its children; at most ``limit`` of them (the
    choices of a form's unit list)."""
    rows = await db.fetch(
        "SELECT id, name, path FROM org_unit WHERE substr(path, 1, {}) = {} ORDER BY path LIMIT {}",
        len(org_path),
        org_path,
        limit,
    )
    top = org_path.count("/")
    return [{**r, "depth": r["path"].count("/") - top} for r in rows]
