"""CSRF protection for the console: every unsafe request carries a token bound to its session.

Logged in, the token is an HMAC of the session's id under the deployment's key (nothing
stored; it changes with every login). Before login (the login and reset forms) it is bound to
a random cookie the form page sets (double submit). Forms send it as ``_csrf``; scripts may
send the header ``X-CSRF-Token``. A request without the right token changes nothing (403).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from core.problems import N_, Problem

__all__ = ["FIELD", "check_csrf", "csrf_guard", "csrf_token", "keep_login_nonce", "login_nonce"]

FIELD = "_csrf"
_NONCE_COOKIE = "orga_form"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _mac(connection: ASGIConnection, message: str) -> str:
    key = connection.app.state.orga.settings.secret_key.encode()
    return hmac.new(key, b"orga-csrf:" + message.encode(), hashlib.sha256).hexdigest()[:40]


def csrf_token(connection: ASGIConnection) -> str:
    """The token for forms on this page: bound to the session, else to the form cookie."""
    actor = connection.state.get("orga_console_actor")
    if actor is not None:
        return _mac(connection, f"session:{actor.token_id}")
    nonce = connection.state.get("orga_form_nonce") or connection.cookies.get(_NONCE_COOKIE)
    return _mac(connection, f"form:{nonce}") if nonce else ""


def login_nonce(connection: ASGIConnection) -> None:
    """Before rendering a form for a visitor without a session: bind its token to a random
    value that :func:`keep_login_nonce` then sets as a cookie (kept if there is one)."""
    if not connection.cookies.get(_NONCE_COOKIE):
        connection.state["orga_form_nonce"] = secrets.token_urlsafe(16)


def keep_login_nonce(connection: ASGIConnection, response: Response) -> None:
    """Set the cookie chosen by :func:`login_nonce` on the form page's response."""
    nonce = connection.state.get("orga_form_nonce")
    if nonce:
        response.set_cookie(
            Cookie(key=_NONCE_COOKIE, value=nonce, path="/app", httponly=True, samesite="lax")
        )


async def check_csrf(connection: ASGIConnection) -> None:
    """Refuse an unsafe request whose token is missing or wrong (403 ``csrf``).

    The form is parsed here; Litestar keeps it for the handler.
    """
    if connection.scope["method"] in _SAFE:
        return
    from core.web.session import console_actor

    await console_actor(connection)  # the token is bound to the session when there is one
    given = connection.headers.get("x-csrf-token")
    if given is None:
        form = await Request(connection.scope, connection.receive).form()
        given = form.get(FIELD)
    expected = csrf_token(connection)
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise Problem(
            403,
            "csrf",
            N_("This form has expired. Go back, reload the page and send it again."),
            title=N_("Form expired"),
        )


async def csrf_guard(connection: ASGIConnection, _: Any) -> None:
    """Guard form of :func:`check_csrf` for the console's routers."""
    await check_csrf(connection)
