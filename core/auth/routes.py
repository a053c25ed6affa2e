"""``/api/auth/*`` and ``/api/me*``: login, logout, the current user, sessions, password change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from core.auth import reset, services
from core.auth.actor import Actor
from core.auth.guards import authenticated
from core.i18n import best_locale
from core.orgs.services import visible_units
from core.pagination import Page

__all__ = ["auth_handlers"]

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    """Credentials."""

    email: Email
    password: Password


class UserOut(msgspec.Struct):
    """A user as the API shows it."""

    id: int
    email: str
    display_name: str
    active: bool


class LoginOut(msgspec.Struct):
    """A new session: send ``Authorization: Bearer <token>`` from now on."""

    token: str
    expires_at: datetime | None
    user: UserOut


class RoleOut(msgspec.Struct):
    """A role held on a unit (and its subtree)."""

    org_id: int
    role: str


class UnitOut(msgspec.Struct):
    """An org unit in a flat list; ``parent_id`` rebuilds the tree."""

    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str


class MeOut(msgspec.Struct):
    """The current user, their role assignments and the units they can see."""

    user: UserOut
    roles: list[RoleOut]
    visible_org_units: list[UnitOut]
    token_kind: str


class SessionOut(msgspec.Struct):
    """One of the user's active sessions or API tokens (never the secret)."""

    id: int
    kind: str
    name: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime | None
    user_agent: str | None
    current: bool


class PasswordChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    """Re-authenticate with the current password and set a new one."""

    current_password: Password
    new_password: Password


class ResetRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    """Ask for a password reset link."""

    email: Email


class ResetRequested(msgspec.Struct):
    """The request was taken: a reset link is mailed if the address has an account."""

    status: str = "accepted"


class ResetConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    """Set a new password with the secret from the reset link."""

    token: Annotated[str, msgspec.Meta(min_length=20, max_length=200)]
    new_password: Password


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@post("/api/auth/login", tags=["auth"], summary="Log in and get a bearer token")
async def login(request: Request, data: LoginIn) -> LoginOut:
    """Exchange e-mail and password for a session token (throttled on failures)."""
    settings = request.app.state.orga.settings
    token, user = await services.login(
        data.email,
        data.password,
        client=_client(request),
        user_agent=request.headers.get("user-agent"),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )
    return LoginOut(token=token.secret, expires_at=token.expires_at, user=UserOut(**user))


@post("/api/auth/logout", guards=[authenticated], tags=["auth"], status_code=HTTP_204_NO_CONTENT)
async def logout(actor: Actor) -> None:
    """Revoke the token used for this request."""
    await services.revoke_token(actor.token_id, actor.user_id)


@post(
    "/api/auth/password",
    guards=[authenticated],
    tags=["auth"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Change the password (other sessions are logged out)",
)
async def change_password(actor: Actor, data: PasswordChangeIn) -> None:
    """Change the own password after re-authentication."""
    actor.require_session()
    await services.change_password(
        actor.user_id, data.current_password, data.new_password, actor.token_id
    )


@post(
    "/api/auth/password-reset",
    tags=["auth"],
    status_code=HTTP_202_ACCEPTED,
    summary="Mail a password reset link (202, or 429 when throttled)",
)
async def password_reset(request: Request, data: ResetRequestIn) -> ResetRequested:
    """202 whether or not the address has an account (no account enumeration); 429 past 3
    requests per e-mail address or 10 per client address within 15 minutes."""
    runtime = request.app.state.orga
    locale = best_locale(request.headers.get("accept-language"), runtime.settings.locale)
    await reset.request_reset(
        data.email, runtime.mailer, runtime.settings.public_url, locale, client=_client(request)
    )
    return ResetRequested()


@post(
    "/api/auth/password-reset/confirm",
    tags=["auth"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Set a new password with a reset link's token",
)
async def password_reset_confirm(data: ResetConfirmIn) -> None:
    """Use a reset link once; all sessions of the user end."""
    await reset.confirm_reset(data.token, data.new_password)


@get("/api/me", guards=[authenticated], tags=["auth"], summary="The current user")
async def me(actor: Actor) -> MeOut:
    """The user, their role assignments and the org units they can see."""
    user = await services.user_profile(actor.user_id)
    units = await visible_units(actor.scopes())
    return MeOut(
        user=UserOut(**user),
        roles=[RoleOut(org_id=g.org_id, role=g.role) for g in actor.grants],
        visible_org_units=[UnitOut(**u) for u in units],
        token_kind=actor.token_kind,
    )


class MePatch(msgspec.Struct, forbid_unknown_fields=True):
    """What a user may change about themselves here."""

    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@patch(
    "/api/me",
    guards=[authenticated],
    tags=["auth"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Change my display name",
)
async def patch_me(actor: Actor, data: MePatch) -> None:
    """Change the current user's display name."""
    await services.set_display_name(actor.user_id, data.display_name)


@get("/api/me/sessions", guards=[authenticated], tags=["auth"], summary="My sessions and tokens")
async def my_sessions(actor: Actor, limit: int = 50, cursor: str | None = None) -> Page[SessionOut]:
    """Active (unrevoked) sessions and API tokens of the current user, oldest first."""
    page = await services.sessions_page(actor.user_id, limit, cursor)
    return Page(
        [SessionOut(**row, current=row["id"] == actor.token_id) for row in page.items],
        page.next_cursor,
    )


@delete(
    "/api/me/sessions/{token_id:int}",
    guards=[authenticated],
    tags=["auth"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Revoke one of my sessions or tokens",
)
async def revoke_session(actor: Actor, token_id: int) -> None:
    """Revoke a session or API token of the current user."""
    await services.revoke_token(token_id, actor.user_id)


def auth_handlers() -> list:
    """Route handlers of this file."""
    return [
        login,
        logout,
        change_password,
        password_reset,
        password_reset_confirm,
        me,
        patch_me,
        my_sessions,
        revoke_session,
    ]
