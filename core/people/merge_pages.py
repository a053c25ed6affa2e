"""The console's duplicate pages: the groups of likely duplicates, and two or more people side
by side with a choice per differing field before they are merged.

Thin like ``routes.py``: the same services as ``GET …/people/duplicates`` (each page audited
with the ids shown) and ``POST …/people/merge`` (which audits the merge itself).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post

from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires
from core.orgs.services import get_unit
from core.people import merge, services
from core.people.labels import FIELD_LABELS
from core.people.pages import CHANNEL_LABELS, CONSENT_LABELS, STATUS_LABELS
from core.problems import N_, invalid
from core.public import form_int
from core.web.render import next_page_href, render_console, see_other, translate

__all__ = ["merge_pages"]

PAGE_SIZE = 50
MAX_PEOPLE = 20  # as many as POST …/people/merge takes
REASON_LABELS = {
    "email": N_("Same e-mail address"),
    "phone": N_("Same phone number"),
    "name_postal_code": N_("Same name and postal code"),
}
SOURCE_LABELS = {
    "info_stand": N_("Info stand"),
    "door_to_door": N_("Door to door"),
    "event": N_("Event"),
    "social_media": N_("Social media"),
    "web_form": N_("Web form"),
    "import": N_("Import"),
    "call": N_("Call"),
}


def _people(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/people"


def _merge_href(org: OrgScope, person_ids: list[int]) -> str:
    return f"{_people(org)}/merge?{urlencode({'ids': ','.join(map(str, person_ids))})}"


@get("/people/duplicates", guards=[requires("people.edit")])
async def duplicates_page(
    request: Request, actor: Actor, org: OrgScope, cursor: str | None = None
) -> Response[str]:
    """Groups of people sharing an e-mail address, a phone number, or name and postal code
    (the same service as ``GET …/people/duplicates``; each page audited with the ids shown)."""
    page, shown = await merge.read_duplicates(request, actor, org.id, org.path, PAGE_SIZE, cursor)
    rows = {row["id"]: row for row in await services.get_person_rows(shown, org.path)}
    groups = [
        {
            "reason": group["reason"],
            "key": group["key"],
            "people": [rows[i] for i in group["person_ids"] if i in rows],
            "merge_href": _merge_href(org, group["person_ids"]),
        }
        for group in page.items
    ]
    next_href = next_page_href(f"{_people(org)}/duplicates", page.next_cursor)
    title = translate(request, "Likely duplicates")
    return await render_console(
        request,
        "core/duplicates.html.jinja",
        title=title,
        breadcrumbs=[
            (translate(request, "People"), _people(org)),
            (title, f"{_people(org)}/duplicates"),
        ],
        groups=groups,
        reason_labels=REASON_LABELS,
        next_href=next_href,
        people_href=_people(org),
    )


def _ids(text: str) -> list[int]:
    """``"12,34"`` → ``[12, 34]``: two or more different people (422 ``ids`` otherwise)."""
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ids = []
    if not 2 <= len(ids) <= MAX_PEOPLE or len(set(ids)) != len(ids):
        raise invalid("ids", N_("Choose two or more different people to merge."))
    return ids


def _shown(request: Request, field: str, value: Any, units: dict[int, str]) -> str:
    """A field's value as the page shows it."""
    if value in (None, ""):
        return ""
    if field == "home_org_id":
        return units.get(value, f"#{value}")
    if field == "member_status":
        return translate(request, STATUS_LABELS[value])
    if field == "source" and value in SOURCE_LABELS:
        return translate(request, SOURCE_LABELS[value])
    return str(value)


@get("/people/merge", guards=[requires("people.edit")])
async def merge_page(request: Request, org: OrgScope, ids: str = "") -> Response[str]:
    """The people side by side; per differing field a choice of the value to keep (each
    person's page read is audited, as on their own page)."""
    person_ids = _ids(ids)
    rows = [await services.read_person(pid, org.id, org.path) for pid in person_ids]
    people = await services.load_people(rows)
    units = {}
    for unit_id in {row["home_org_id"] for row in rows}:
        unit = await get_unit(unit_id)
        units[unit_id] = unit["name"] if unit else f"#{unit_id}"
    kept = rows[0]
    fields = []
    for field in merge.MERGEABLE_FIELDS:
        values = [row[field] for row in rows]
        differs = len({"" if v is None else v for v in values}) > 1
        filled = next((row["id"] for row in rows if row[field] not in (None, "")), kept["id"])
        fields.append(
            {
                "name": field,
                "label": FIELD_LABELS[field],
                "values": [_shown(request, field, v, units) for v in values],
                "differs": differs,
                "chosen": kept["id"] if kept[field] not in (None, "") else filled,
            }
        )
    title = translate(request, "Merge people")
    return await render_console(
        request,
        "core/merge.html.jinja",
        title=title,
        breadcrumbs=[
            (translate(request, "People"), _people(org)),
            (translate(request, "Likely duplicates"), f"{_people(org)}/duplicates"),
            (title, _merge_href(org, person_ids)),
        ],
        people=people,
        fields=fields,
        ids=",".join(map(str, person_ids)),
        action=f"{_people(org)}/merge",
        people_href=_people(org),
        channel_labels=CHANNEL_LABELS,
        consent_labels=CONSENT_LABELS,
    )


@post("/people/merge", guards=[requires("people.edit")], status_code=303)
async def merge_submit(request: Request, org: OrgScope) -> Response:
    """Merge the others into the first person with the chosen values (the same service as
    ``POST …/people/merge``)."""
    form = await request.form()
    kept_id, *merged_ids = _ids(form.get("ids") or "")
    overrides = {
        field: form_int(form, f"keep-{field}")
        for field in merge.MERGEABLE_FIELDS
        if form.get(f"keep-{field}")
    }
    await merge.merge_people(
        kept_id, merged_ids, overrides, org.path, request.app.state.orga.registry, org_id=org.id
    )
    return see_other(f"{_people(org)}/{kept_id}", translate(request, "The people are merged."))


def merge_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}``."""
    return [duplicates_page, merge_page, merge_submit]
