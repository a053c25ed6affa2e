"""Routes of the mailings module (mounted under ``/api/orgs/{org_id}/mailings``)."""

from __future__ import annotations

from litestar import Response, delete, get, patch, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from core.api import (
    ETAG_HEADERS,
    PRECONDITION_RESPONSES,
    IfMatch,
    OrgScope,
    Page,
    check_if_match,
    db,
    get_in_org,
    get_person_row,
    invalid,
    not_found,
    page_in_org,
    requires,
    with_etag,
)
from plugins.mailings import sending, services
from plugins.mailings.audience import audience_breakdown, audience_segment
from plugins.mailings.schemas import (
    AudienceOut,
    MailingIn,
    MailingOut,
    MailingPatch,
    PreviewIn,
    PreviewOut,
    SenderIn,
    SenderOut,
    SendIn,
    TestIn,
    Undelivered,
)
from plugins.mailings.tables import Mailing

__all__ = ["handlers"]

EDIT = [requires("mailings.edit")]
SEND = [requires("mailings.send")]


async def _load(org: OrgScope, mailing_id: int) -> dict:
    return await get_in_org(Mailing, mailing_id, org, "mailing")


@get("/", guards=EDIT, summary="Mailings of this unit")
async def list_mailings(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[MailingOut]:
    """Mailings of the unit, newest first, with their statistics."""
    page = await page_in_org(Mailing, org, limit, cursor)
    return Page(await services.mailings_out(page.items), page.next_cursor)


@post("/", guards=EDIT, summary="Create a mailing draft")
async def create_mailing(org: OrgScope, data: MailingIn) -> MailingOut:
    """Create a draft mailing of this unit (template syntax errors are a 422 with the line)."""
    row = await services.create_mailing(org.id, org.path, data)
    return await services.mailing_out(row)


@get("/sender", guards=EDIT, summary="The unit's sender identity")
async def get_sender(org: OrgScope) -> SenderOut:
    """The sender identity in force for this unit (its own, else the nearest ancestor's)."""
    sender = await services.sender_for(org.path)
    if sender is None:
        raise not_found("sender identity")
    return sender


@put("/sender", guards=SEND, summary="Set the unit's sender identity")
async def put_sender(org: OrgScope, data: SenderIn) -> SenderOut:
    """Set who this unit's mailings come from (units below inherit it)."""
    await services.put_sender(org.id, data)
    sender = await services.sender_for(org.path)
    assert sender is not None
    return sender


@get(
    "/{mailing_id:int}",
    guards=EDIT,
    summary="One mailing with its progress",
    response_headers=ETAG_HEADERS,
)
async def get_mailing(org: OrgScope, mailing_id: int) -> Response[MailingOut]:
    """A mailing of this unit (404 for another unit's), with progress, statistics and its
    ETag."""
    row = await _load(org, mailing_id)
    return with_etag(await services.mailing_out(row), row)


@patch(
    "/{mailing_id:int}",
    guards=EDIT,
    summary="Change a draft",
    response_headers=ETAG_HEADERS,
    responses=PRECONDITION_RESPONSES,
)
async def patch_mailing(
    org: OrgScope, mailing_id: int, data: MailingPatch, if_match: IfMatch = None
) -> Response[MailingOut]:
    """Change a draft or a scheduled mailing that has not started. Send the ETag you read as
    ``If-Match``: 412 if someone changed the mailing since."""
    async with db.transaction():
        row = await _load(org, mailing_id)
        await check_if_match(if_match, Mailing, row)
        row = await services.patch_mailing(row, data)
    return with_etag(await services.mailing_out(row), row)


@delete("/{mailing_id:int}", guards=EDIT, status_code=HTTP_204_NO_CONTENT, summary="Delete a draft")
async def delete_mailing(org: OrgScope, mailing_id: int) -> None:
    """Delete a draft."""
    await services.delete_mailing(await _load(org, mailing_id))


@get("/{mailing_id:int}/undelivered", guards=EDIT, summary="Recipients not delivered, and why")
async def undelivered(
    org: OrgScope, mailing_id: int, limit: int = 100, cursor: str | None = None
) -> Page[Undelivered]:
    """Recipients that failed or bounced, or whose last attempt failed and who are tried
    again (``deferred``), each with the reason; in recipient order."""
    await _load(org, mailing_id)
    return await services.undelivered(mailing_id, limit, cursor)


@get("/{mailing_id:int}/audience", guards=EDIT, summary="Who will receive it, and who not")
async def audience(org: OrgScope, mailing_id: int) -> AudienceOut:
    """The audience broken down into will receive / do-not-contact / no e-mail / bouncing /
    unsubscribed / no consent, as of now."""
    row = await _load(org, mailing_id)
    segment = audience_segment(db.json_value(row["audience"]))
    return AudienceOut(**await audience_breakdown(segment, org.id, org.path))


@post(
    "/{mailing_id:int}/preview",
    guards=EDIT,
    status_code=HTTP_200_OK,
    summary="Render for one person",
)
async def preview(org: OrgScope, mailing_id: int, data: PreviewIn) -> PreviewOut:
    """The mailing as a person of this unit's subtree would get it."""
    row = await _load(org, mailing_id)
    person = await get_person_row(data.person_id, org.path)
    if person is None:
        raise invalid("person_id", "no such person in this unit")
    return await services.preview(row, person)


@post(
    "/{mailing_id:int}/test",
    guards=EDIT,
    status_code=HTTP_202_ACCEPTED,
    summary="Send a test mail",
)
async def send_test(org: OrgScope, mailing_id: int, data: TestIn) -> dict:
    """Send the mailing to ``email`` (with a sample person's data, or ``person_id``'s)."""
    row = await _load(org, mailing_id)
    person = None
    if data.person_id is not None:
        person = await get_person_row(data.person_id, org.path)
        if person is None:
            raise invalid("person_id", "no such person in this unit")
    await services.send_test(row, data.email, person)
    return {"queued": True}


@post("/{mailing_id:int}/send", guards=SEND, status_code=HTTP_202_ACCEPTED, summary="Send")
async def send(org: OrgScope, mailing_id: int, data: SendIn) -> MailingOut:
    """Freeze the recipients and queue the mails (or schedule the start); needs
    ``confirm: true`` and, above the configured threshold, ``confirm_count``."""
    row = await _load(org, mailing_id)
    await sending.start(row, org.path, data.confirm, data.confirm_count)
    return await services.mailing_out(await _load(org, mailing_id))


def _state_route(path: str, summary: str, run):
    @post(
        f"/{{mailing_id:int}}/{path}",
        guards=SEND,
        status_code=HTTP_200_OK,
        summary=summary,
        description=summary,
        name=f"mailings-{path}",
        operation_id=f"mailings_{path}",
    )
    async def handler(org: OrgScope, mailing_id: int) -> MailingOut:
        row = await _load(org, mailing_id)
        await run(row)
        return await services.mailing_out(await _load(org, mailing_id))

    return handler


pause = _state_route("pause", "Pause a running send", sending.pause)
resume = _state_route("resume", "Resume a paused send", sending.resume)
cancel = _state_route("cancel", "Cancel a send", sending.cancel)


def handlers() -> list:
    """Route handlers of the mailings module."""
    return [
        list_mailings,
        create_mailing,
        get_sender,
        put_sender,
        get_mailing,
        patch_mailing,
        delete_mailing,
        undelivered,
        audience,
        preview,
        send_test,
        send,
        pause,
        resume,
        cancel,
    ]
