"""Routes of the mailings module (mounted under ``/api/orgs/{org_id}/mailings``)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, patch, post, put
from litestar.params import QueryParameter
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
    not_found,
    requires,
    with_etag,
)
from plugins.mailings import console_services, sending, services
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
    SuppressionOut,
    TestIn,
    TimelinePoint,
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
    org: OrgScope,
    limit: int = 50,
    cursor: str | None = None,
    state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
    q: str | None = None,
) -> Page[MailingOut]:
    """Mailings of the unit, newest first, with their statistics; only those in ``state``
    (draft, scheduled, sending, paused, sent, cancelled) and with ``q`` in the subject when
    given."""
    page = await console_services.list_mailings(org.id, state_filter, q, limit, cursor)
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
    return AudienceOut(**await services.audience_of(row, org.path))


@post(
    "/{mailing_id:int}/preview",
    guards=EDIT,
    status_code=HTTP_200_OK,
    summary="Render for one person",
)
async def preview(org: OrgScope, mailing_id: int, data: PreviewIn) -> PreviewOut:
    """The mailing as a person of this unit's subtree would get it."""
    row = await _load(org, mailing_id)
    person = await services.person_in_unit(data.person_id, org.path)
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
        person = await services.person_in_unit(data.person_id, org.path)
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


@get(
    "/{mailing_id:int}/timeline",
    guards=EDIT,
    summary="Statistics over time (one row per hour or day of the send, not paged)",
)
async def timeline(org: OrgScope, mailing_id: int) -> list[TimelinePoint]:
    """Delivered, bounced and unsubscribed per hour (per day for a long send); opened and
    clicked only when tracking is on (else ``null``)."""
    await _load(org, mailing_id)
    return [TimelinePoint(**p) for p in await console_services.timeline(mailing_id)]


@get("/suppressions", guards=EDIT, summary="Suppressed addresses of the unit's people")
async def list_suppressions(
    org: OrgScope, limit: int = 50, cursor: str | None = None, q: str | None = None
) -> Page[SuppressionOut]:
    """Addresses refused for good that people of this unit's subtree have, newest first."""
    page = await console_services.suppressions(org.path, q, limit, cursor)
    return Page([SuppressionOut(**r) for r in page.items], page.next_cursor)


@delete(
    "/suppressions/{suppression_id:int}",
    guards=SEND,
    status_code=HTTP_204_NO_CONTENT,
    summary="Take an address off the suppression list",
)
async def delete_suppression(org: OrgScope, suppression_id: int) -> None:
    """Bulk mail reaches the address again (audited); 404 for an address no person of the
    unit's subtree has."""
    await console_services.remove_suppression(org.id, org.path, suppression_id)


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
        timeline,
        list_suppressions,
        delete_suppression,
    ]
