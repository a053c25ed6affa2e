"""The console's login session: a server-side session (an ``auth_token`` of kind ``console``)
whose secret travels in a cookie: HttpOnly, SameSite=Lax, Secure and ``__Host-`` on https,
idle and absolute timeouts as for API sessions. The cookie is no API credential: the JSON API
reads bearer tokens only and refuses console tokens (``core.auth.guards.current_actor``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from core.auth import services
from core.auth.actor import CONSOLE, Actor, resolve_actor
from core.context import set_acting
from core.problems import N_, Problem
from core.public import client_address

__all__ = [
    "console_actor",
    "console_session",
    "end_session",
    "open_session",
    "session_cookie_name",
]


def _https(connection: ASGIConnection) -> bool:
    settings = connection.app.state.orga.settings
    return settings.public_url.startswith("https://") or connection.scope.get("scheme") == "https"


def session_cookie_name(connection: ASGIConnection) -> str:
    """``__Host-orga_session`` on https (the browser then insists on Secure, path / and no
    domain), ``orga_session`` on plain http (development)."""
    return "__Host-orga_session" if _https(connection) else "orga_session"


async def console_actor(connection: ASGIConnection) -> Actor | None:
    """The actor of the request's session cookie (resolved once per request), or ``None``."""
    state = connection.state
    if "orga_console_actor" in state:
        return state["orga_console_actor"]
    actor = None
    secret = connection.cookies.get(session_cookie_name(connection))
    if secret:
        runtime = connection.app.state.orga
        idle = timedelta(minutes=runtime.settings.session_idle_minutes)
        actor = await resolve_actor(secret, runtime.roles, idle, runtime.caches)
        if actor is not None and actor.token_kind != CONSOLE:
            actor = None  # an API token pasted into the cookie opens nothing
    state["orga_console_actor"] = actor
    return actor


async def console_session(connection: ASGIConnection, _: Any) -> None:
    """Guard: a valid console session; it becomes the request's actor for the guards after
    it (unit visible, module enabled, permission), which are the API's own."""
    actor = await console_actor(connection)
    if actor is None:
        raise Problem(401, "unauthenticated", N_("Please log in."))
    connection.state["orga_actor"] = actor
    set_acting(actor)


async def open_session(
    connection: ASGIConnection, email: str, password: str, response: Response
) -> None:
    """Check the credentials (throttled like the API's login) and set the session cookie.

    Raises:
        Problem: 401 for wrong credentials, 429 when throttled.
    """
    settings = connection.app.state.orga.settings
    absolute = timedelta(hours=settings.session_absolute_hours)
    token, _user = await services.login(
        email,
        password,
        client=client_address(connection),  # type: ignore[arg-type]
        user_agent=connection.headers.get("user-agent"),
        absolute=absolute,
        kind=CONSOLE,
    )
    response.set_cookie(
        Cookie(
            key=session_cookie_name(connection),
            value=token.secret,
            path="/",
            httponly=True,
            secure=_https(connection),
            samesite="lax",
            max_age=int(absolute.total_seconds()),
        )
    )


async def end_session(connection: ASGIConnection, actor: Actor, response: Response) -> None:
    """Revoke the session and clear its cookie."""
    await services.revoke_token(actor.token_id, actor.user_id)
    response.delete_cookie(session_cookie_name(connection), path="/")
