"""The public password reset page ``/p/auth/reset/{token}`` (no JavaScript needed)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.auth.reset import confirm_reset
from core.http import HTML
from core.i18n import page_text
from core.problems import N_, Problem
from core.public import page_locale

__all__ = ["reset_page", "reset_page_submit"]


_BAD_LINK = N_("This reset link is unknown, used or expired. Ask for a new one.")
_BAD_PASSWORD = N_("Please choose another password: at least 12 characters, hard to guess.")


def _page(request: Request, status: int = 200, **context: object) -> Response[str]:
    runtime = request.app.state.orga
    locale = page_locale(request)
    html = runtime.templates.render_page(
        "pages/password_reset.html.jinja",
        {"locale": locale, "done": False, "error": None, **context},
        locale,
    )
    return Response(html, media_type=HTML, status_code=status)


@get("/p/auth/reset/{token:str}", include_in_schema=False)
async def reset_page(request: Request, token: str) -> Response[str]:
    """The form to choose a new password."""
    return _page(request)


@post("/p/auth/reset/{token:str}", include_in_schema=False)
async def reset_page_submit(
    request: Request,
    token: str,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[str]:
    """Set the password; errors are shown on the page."""
    try:
        await confirm_reset(token, data.get("new_password", ""))
    except Problem as exc:
        message = exc.errors[0].message if exc.errors else (exc.detail or exc.title)
        fallback = _BAD_PASSWORD if exc.errors else _BAD_LINK
        return _page(
            request, status=exc.status, error=page_text(message, page_locale(request), fallback)
        )
    return _page(request, done=True)
