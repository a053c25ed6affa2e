"""Public pages: unsubscribe (RFC 8058 one-click), and the open pixel and click redirects.

``GET /p/mailings/unsubscribe/{token}`` only shows a confirmation form, so a link scanner
that fetches every URL in a mail unsubscribes nobody. ``POST`` unsubscribes without cookies
or login: from the form (``scope=unit|all``) or from a mail client's one-click request
(body ``List-Unsubscribe=One-Click``, which unsubscribes from this unit's mailings).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from core.api import (
    BadToken,
    ConsentIn,
    RateLimit,
    db,
    open_person_token,
    record_consent,
    render_page,
    unsign,
    utcnow,
)
from plugins.mailings.audience import unit_purpose
from plugins.mailings.render import CLICK_PURPOSE, OPEN_PURPOSE, UNSUBSCRIBE_PURPOSE
from plugins.mailings.services import config

__all__ = ["public_handlers"]

PAGE = "pages/mailings_unsubscribe.html.jinja"
_limit = RateLimit(60, 60.0)
# a transparent 1x1 GIF
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


async def _recipient(token: str) -> dict[str, Any] | None:
    """The recipient an unsubscribe link stands for, while its person keeps the link key."""
    try:
        person_id, recipient_id = await open_person_token(UNSUBSCRIBE_PURPOSE, token)
    except BadToken:
        return None
    if not isinstance(recipient_id, int):
        return None
    return await db.fetch_one(
        "SELECT r.id, r.mailing_id, r.person_id, r.unsubscribed_at, r.unsubscribe_scope, "
        "m.org_id, o.name AS org_name FROM mailings_recipient r "
        "JOIN mailings_mailing m ON m.id = r.mailing_id JOIN org_unit o ON o.id = m.org_id "
        "WHERE r.id = {} AND r.person_id = {}",
        recipient_id,
        person_id,
    )


def _invalid(request: Request) -> Response[str]:
    from core.api import gettext, page_locale

    message = gettext(
        "This unsubscribe link is not valid (or it came with a test mail).", page_locale(request)
    )
    return render_page(request, PAGE, status=404, error=message, org_name="", done=False)


@get("/unsubscribe/{token:str}", summary="Unsubscribe: confirmation page")
async def unsubscribe_page(request: Request, token: str) -> Response[str]:
    """Ask which mailings to leave; changes nothing."""
    _limit.check(request)
    recipient = await _recipient(token)
    if recipient is None or recipient["person_id"] is None:
        return _invalid(request)
    return render_page(
        request,
        PAGE,
        org_name=recipient["org_name"],
        done=False,
        error=None,
        scope=recipient["unsubscribe_scope"],
    )


@post("/unsubscribe/{token:str}", summary="Unsubscribe (form or RFC 8058 one-click)")
async def unsubscribe(request: Request, token: str) -> Response[str]:
    """Record the withdrawal in core consent; a repeated POST changes nothing more.

    The body may be URL-encoded or ``multipart/form-data`` (RFC 8058 allows both).
    """
    _limit.check(request)
    data = await request.form()
    recipient = await _recipient(token)
    if recipient is None or recipient["person_id"] is None:
        return _invalid(request)
    one_click = data.get("List-Unsubscribe") == "One-Click"
    scope = "all" if not one_click and data.get("scope") == "all" else "unit"
    purpose = "general" if scope == "all" else unit_purpose(recipient["org_id"])
    async with db.transaction():
        await record_consent(
            recipient["person_id"],
            ConsentIn(
                channel="email",
                status="withdrawn",
                source="mailings-one-click" if one_click else "mailings-unsubscribe",
                purpose=purpose,
                reference=f"mailing:{recipient['mailing_id']}",
            ),
        )
        await db.execute(
            "UPDATE mailings_recipient SET unsubscribed_at = COALESCE(unsubscribed_at, {}), "
            "unsubscribe_scope = {}, updated_at = {} WHERE id = {}",
            utcnow(),
            scope,
            utcnow(),
            recipient["id"],
        )
    return render_page(
        request, PAGE, org_name=recipient["org_name"], done=True, error=None, scope=scope
    )


async def _touch(recipient_id: int, column: str) -> None:
    """Record the first open or click (``opened_at`` too, since a click implies an open)."""
    now = utcnow()
    sets = "opened_at = COALESCE(opened_at, {})"
    args: list[Any] = [now]
    if column == "clicked_at":
        sets += ", clicked_at = COALESCE(clicked_at, {})"
        args.append(now)
    await db.execute(
        f"UPDATE mailings_recipient SET {sets} WHERE id = {{}} AND {column} IS NULL",
        *args,
        recipient_id,
    )


@get("/o/{token:str}", summary="Open pixel (only counts when tracking is on)")
async def open_pixel(token: str) -> Response[bytes]:
    """A transparent GIF; records the first open when the deployment turned tracking on."""
    if config().tracking:
        try:
            await _touch(int(unsign(OPEN_PURPOSE, token)), "opened_at")
        except (BadToken, TypeError, ValueError):
            pass
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@get("/c/{token:str}", summary="Click redirect (signed; counts only when tracking is on)")
async def click(token: str) -> Response:
    """Redirect to the signed target; records the first click when tracking is on."""
    try:
        recipient_id, url = unsign(CLICK_PURPOSE, token)
    except (BadToken, TypeError, ValueError):
        from core.api import not_found

        raise not_found("link") from None
    if not str(url).startswith(("http://", "https://")):
        from core.api import not_found

        raise not_found("link")
    if config().tracking:
        await _touch(int(recipient_id), "clicked_at")
    return Redirect(str(url), status_code=303)


def public_handlers() -> list:
    """Public route handlers of the mailings module."""
    return [unsubscribe_page, unsubscribe, open_pixel, click]
