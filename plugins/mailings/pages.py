"""Public pages: unsubscribe (RFC 8058 one-click), the open pixel and click redirects, and
the web version of a sent mailing (a signed link naming only the mailing; no personal data).

``GET /p/mailings/unsubscribe/{token}`` only shows a confirmation form, so a link scanner
that fetches every URL in a mail unsubscribes nobody. ``POST`` unsubscribes without cookies
or login: from the form (``scope=unit|all``) or from a mail client's one-click request
(body ``List-Unsubscribe=One-Click``, which unsubscribes from this unit's mailings).
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.response import Redirect

from core.api import BadToken, RateLimit, render_page, unsign
from plugins.mailings.console_services import web_version
from plugins.mailings.render import CLICK_PURPOSE, OPEN_PURPOSE
from plugins.mailings.services import config, touch_recipient, unsubscribe_recipient, unsubscribed

__all__ = ["public_handlers"]

PAGE = "pages/mailings_unsubscribe.html.jinja"
WEB_PAGE = "pages/mailings_web.html.jinja"
_limit = RateLimit(60, 60.0)
# a transparent 1x1 GIF
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
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
    recipient = await unsubscribe_recipient(token)
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
    recipient = await unsubscribe_recipient(token)
    if recipient is None or recipient["person_id"] is None:
        return _invalid(request)
    one_click = data.get("List-Unsubscribe") == "One-Click"
    scope = "all" if not one_click and data.get("scope") == "all" else "unit"
    await unsubscribed(recipient, scope, one_click)
    return render_page(
        request, PAGE, org_name=recipient["org_name"], done=True, error=None, scope=scope
    )


@get("/o/{token:str}", summary="Open pixel (only counts when tracking is on)")
async def open_pixel(token: str) -> Response[bytes]:
    """A transparent GIF; records the first open when the deployment turned tracking on."""
    if config().tracking:
        try:
            await touch_recipient(int(unsign(OPEN_PURPOSE, token)), clicked=False)
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
        await touch_recipient(int(recipient_id), clicked=True)
    return Redirect(str(url), status_code=303)


@get("/web/{token:str}", summary="The web version of a sent mailing")
async def web_page(request: Request, token: str) -> Response[str]:
    """The mailing as a web page, written for nobody in particular (no personal data, no
    unsubscribe link); 404 for a bad link or a mailing not sent."""
    _limit.check(request)
    mailing = await web_version(token)
    if mailing is None:
        from core.api import gettext, page_locale

        message = gettext("This mailing cannot be shown here.", page_locale(request))
        return render_page(request, WEB_PAGE, status=404, mailing=None, error=message)
    return render_page(request, WEB_PAGE, mailing=mailing, error=None)


def public_handlers() -> list:
    """Public route handlers of the mailings module."""
    return [unsubscribe_page, unsubscribe, open_pixel, click, web_page]
