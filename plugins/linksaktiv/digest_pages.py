"""Public pages of the weekly digest: unsubscribe (RFC 8058 one-click) under
``/p/linksaktiv/digest``.

``GET`` only shows a confirmation form, so a link scanner that fetches every URL in a mail
unsubscribes nobody; ``POST`` unsubscribes without cookies or login, from the form or from a
mail client's one-click request (body ``List-Unsubscribe=One-Click``), as the mailings' link.
"""

from __future__ import annotations

from litestar import Request, Response, get, post

from core.api import RateLimit, gettext, page_locale, render_page
from plugins.linksaktiv.digest import unsubscribe_digest, unsubscribe_person

__all__ = ["digest_public_handlers"]

PAGE = "pages/linksaktiv/digest_unsubscribe.html.jinja"
_limit = RateLimit(60, 60.0)


def _invalid(request: Request) -> Response[str]:
    message = gettext("This unsubscribe link is not valid any more.", page_locale(request))
    return render_page(request, PAGE, status=404, error=message, done=False)


@get("/digest/unsubscribe/{token:str}", summary="Digest unsubscribe: confirmation page")
async def digest_unsubscribe_page(request: Request, token: str) -> Response[str]:
    """Ask whether to stop the weekly digest; changes nothing."""
    _limit.check(request)
    if await unsubscribe_person(token) is None:
        return _invalid(request)
    return render_page(request, PAGE, error=None, done=False)


@post("/digest/unsubscribe/{token:str}", summary="Digest unsubscribe (form or one-click)")
async def digest_unsubscribe(request: Request, token: str) -> Response[str]:
    """Withdraw the e-mail consent for the digest in core consent; a repeated POST changes
    nothing more that counts."""
    _limit.check(request)
    data = await request.form()
    person_id = await unsubscribe_person(token)
    if person_id is None:
        return _invalid(request)
    await unsubscribe_digest(person_id, data.get("List-Unsubscribe") == "One-Click")
    return render_page(request, PAGE, error=None, done=True)


def digest_public_handlers() -> list:
    """The digest's public handlers (mounted under ``/p/linksaktiv``)."""
    return [digest_unsubscribe_page, digest_unsubscribe]
