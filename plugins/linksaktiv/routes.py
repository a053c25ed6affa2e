"""Routes of the linksaktiv module (mounted under ``/api/orgs/{org_id}/linksaktiv``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, patch, post

from core.api import (
    Actor,
    OrgScope,
    Page,
    check_limit,
    db,
    decode_cursor,
    forbidden,
    get_in_org,
    page_in_org,
    page_of,
    requires,
    subtree_ids,
    to_row,
)
from plugins.linksaktiv import activists, orders
from plugins.linksaktiv import calls as call_service
from plugins.linksaktiv.funnel import attended_predicate, funnel
from plugins.linksaktiv.join_links import short_link
from plugins.linksaktiv.order_routes import order_handlers
from plugins.linksaktiv.schemas import (
    ActivistOut,
    CallReachOut,
    CallResultOut,
    CallToActionIn,
    CallToActionOut,
    EditionIn,
    EditionOut,
    TopicIn,
    TopicOut,
    TopicPatch,
)
from plugins.linksaktiv.signup import source_link
from plugins.linksaktiv.tables import Call, Edition

__all__ = ["handlers"]


def _edition_out(row: dict[str, Any]) -> EditionOut:
    return EditionOut(
        id=row["id"],
        org_id=row["org_id"] if "org_id" in row else row["org"],
        title=row["title"],
        date=row["date"],
        copies=row["copies"],
        bundle_size=row["bundle_size"],
    )


@get("/editions", guards=[requires("linksaktiv.view")], summary="Newspaper editions")
async def list_editions(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[EditionOut]:
    """Editions of this unit, newest first."""
    page = await page_in_org(Edition, org, limit, cursor)
    return Page([_edition_out(r) for r in page.items], page.next_cursor)


@post("/editions", guards=[requires("linksaktiv.manage")], summary="Create an edition")
async def create_edition(org: OrgScope, data: EditionIn) -> EditionOut:
    """Create a newspaper edition of this unit."""
    edition_id = await orders.create_edition(org.id, data)
    return _edition_out(await get_in_org(Edition, edition_id, org, "edition"))


@get("/editions/{edition_id:int}", guards=[requires("linksaktiv.view")], summary="One edition")
async def get_edition(org: OrgScope, edition_id: int) -> EditionOut:
    """An edition of this unit (404 for another unit's)."""
    return _edition_out(await get_in_org(Edition, edition_id, org, "edition"))


def _topic_out(row: dict[str, Any]) -> TopicOut:
    return TopicOut(id=row["id"], slug=row["slug"], title=row["title"], active=row["active"])


@get(
    "/topics",
    guards=[requires("linksaktiv.view")],
    summary="Topics of this deployment (at most 100, not paged)",
)
async def list_topics(include_inactive: bool = False) -> list[TopicOut]:
    """All topics, by title: one list per deployment, bounded (a deployment has at most
    ``MAX_TOPICS`` = 100), so it is one answer and not paged."""
    return [_topic_out(t) for t in await call_service.topics(active_only=not include_inactive)]


def _require_root(org: OrgScope) -> None:
    if org.path.count("/") != 2:
        raise forbidden("linksaktiv.manage")  # topics are the deployment's: root units only


@post("/topics", guards=[requires("linksaktiv.manage")], summary="Add a topic")
async def create_topic(org: OrgScope, data: TopicIn) -> TopicOut:
    """Add a topic (managers of a root unit only: the list is the deployment's)."""
    _require_root(org)
    return _topic_out(await call_service.create_topic(org.id, data.slug, data.title))


@patch("/topics/{topic_id:int}", guards=[requires("linksaktiv.manage")], summary="Edit topic")
async def patch_topic(org: OrgScope, topic_id: int, data: TopicPatch) -> TopicOut:
    """Rename a topic or switch it off (managers of a root unit only)."""
    _require_root(org)
    return _topic_out(await call_service.update_topic(org.id, topic_id, to_row(data)))


async def _calls_out(rows: list[dict[str, Any]]) -> list[CallToActionOut]:
    done = await call_service.done_counts([r["id"] for r in rows])
    slugs = {t["id"]: t["slug"] for t in await call_service.topics(active_only=False)}
    return [
        CallToActionOut(
            id=r["id"],
            org_id=r.get("org_id", r.get("org")),
            title=r["title"],
            text=r["text"],
            kind=r["kind"],
            link=r["link"],
            event_id=r["event_id"],
            topics=[slugs[t] for t in db.json_value(r["topic_ids"]) or [] if t in slugs],
            starts_at=r["starts_at"],
            deadline=r["deadline"],
            done=done.get(r["id"], 0),
            regions=db.json_value(r["region_ids"]) or [],
            published_at=r["published_at"],
        )
        for r in rows
    ]


@get("/calls", guards=[requires("linksaktiv.view")], summary="Calls to action of this unit")
async def list_calls(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[CallToActionOut]:
    """Calls of this unit, newest first, with how many did them."""
    page = await page_in_org(Call, org, limit, cursor)
    return Page(await _calls_out(page.items), page.next_cursor)


@post("/calls", guards=[requires("linksaktiv.manage")], summary="Create a call to action")
async def create_call(org: OrgScope, data: CallToActionIn, draft: bool = False) -> CallToActionOut:
    """A call for this unit's region (its subtree, or ``regions`` in it) and the given topics
    (none: everyone), live at once; with ``?draft=true`` a draft (on nobody's page, in no
    digest) to check its reach and publish later."""
    call_id = await call_service.create_call(org.id, data, publish=not draft)
    return (await _calls_out([await get_in_org(Call, call_id, org, "call")]))[0]


@get("/calls/{call_id:int}", guards=[requires("linksaktiv.view")], summary="One call")
async def get_call(org: OrgScope, call_id: int) -> CallToActionOut:
    """A call of this unit (404 for another unit's)."""
    return (await _calls_out([await get_in_org(Call, call_id, org, "call")]))[0]


@get(
    "/calls/{call_id:int}/reach",
    guards=[requires("linksaktiv.view")],
    summary="How many activists a call reaches",
)
async def get_call_reach(org: OrgScope, call_id: int) -> CallReachOut:
    """How many activists the call reaches now (its digest's audience), e.g. before
    publishing a draft."""
    row = await get_in_org(Call, call_id, org, "call")
    return CallReachOut(call_id=call_id, reach=await call_service.reach(row))


@post(
    "/calls/{call_id:int}/publish",
    guards=[requires("linksaktiv.manage")],
    status_code=200,
    summary="Publish a draft call",
)
async def publish_call(org: OrgScope, call_id: int) -> CallToActionOut:
    """Publish a draft: activists see it on their page and get it in their next digest
    (409 naming ``published_at`` when it is published already)."""
    await call_service.publish_call(org.id, call_id)
    return (await _calls_out([await get_in_org(Call, call_id, org, "call")]))[0]


@get(
    "/calls/{call_id:int}/results",
    guards=[requires("linksaktiv.view")],
    summary='"I did it" per unit (one row per child unit and the unit, not paged)',
)
async def get_call_results(org: OrgScope, call_id: int) -> list[CallResultOut]:
    """How many marked the call done, per unit below the call's unit (its subtree counted in
    it) and for the unit itself, most first."""
    row = await get_in_org(Call, call_id, org, "call")
    return [msgspec.convert(r, CallResultOut) for r in await call_service.call_results(row)]


@get("/activists", guards=[requires("linksaktiv.view")], summary="Activists of the region")
async def list_activists(
    request: Request,
    actor: Actor,
    org: OrgScope,
    status: Literal["pending", "confirmed", "unsubscribed"] | None = None,
    topic: list[str] | None = None,
    help: list[str] | None = None,
    source: str | None = None,
    unit_id: int | None = None,
    active_since: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ActivistOut]:
    """Activists whose home unit is in this unit's subtree (keyset pages by person id),
    narrowed by any of the topics (slugs), any of the ways to help, source, status, a unit
    of the subtree and activity since a day (``YYYY-MM-DD``)."""
    chosen = activists.activist_filter(topic, help, source, status, unit_id, active_since)
    return await activists.read_activists(request, actor, org.id, org.path, chosen, limit, cursor)


class JoinLink(msgspec.Struct):
    """A join link for this unit and a source: ``url`` opens the form with both set,
    ``short_url`` is the short signed link for print and QR codes (the console's join-link
    page prints the same) that leads to it."""

    url: str
    short_url: str


@get("/join-link", guards=[requires("linksaktiv.manage")], summary="Signed join link")
async def join_link(
    org: OrgScope, source: Literal["info_stand", "doors", "event", "social_media", "web"] = "web"
) -> JoinLink:
    """A link to the join page that records this unit and ``source`` with each sign-up."""
    return JoinLink(url=source_link(org.id, source), short_url=short_link(org.id, source))


#: A funnel row's month (``YYYY-MM``), as its cursor carries it.
Month = Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$")]


class FunnelRow(msgspec.Struct):
    """One month, unit and source of the funnel."""

    month: str
    org_id: int
    source: str
    signed_up: int
    confirmed: int
    acted: int
    members: int
    attended: int = 0


@get("/funnel", guards=[requires("linksaktiv.view")], summary="Sign-up funnel")
async def get_funnel(
    org: OrgScope, since: datetime | None = None, limit: int = 100, cursor: str | None = None
) -> Page[FunnelRow]:
    """Signed up → confirmed → acted → member, per month, unit of the subtree and source, in
    that order (keyset pages)."""
    check_limit(limit)
    after = decode_cursor(cursor, tuple[Month, int, str])
    units = await subtree_ids(org.path)
    rows = await funnel(units, since, await attended_predicate(org.path), limit + 1, after)
    page = page_of(rows, limit, key=lambda r: [r["month"], r["org_id"], r["source"]])
    return Page([FunnelRow(**r) for r in page.items], page.next_cursor)


def handlers() -> list:
    """Route handlers of the linksaktiv module."""
    return [
        list_editions,
        create_edition,
        get_edition,
        list_topics,
        create_topic,
        patch_topic,
        list_calls,
        create_call,
        get_call,
        get_call_reach,
        publish_call,
        get_call_results,
        list_activists,
        join_link,
        get_funnel,
        *order_handlers(),
    ]
