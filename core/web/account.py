"""Console pages outside any unit: log in and out, ask for a password reset, the index (which
unit to open) and "my account" (name, password, sessions and tokens, language)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect

from core.auth import reset, services
from core.auth.actor import Actor
from core.i18n import LOCALES
from core.problems import Problem
from core.public import client_address
from core.web.csrf import keep_login_nonce, login_nonce
from core.web.render import LANG_COOKIE, console_locale, render_console, see_other, translate
from core.web.session import console_session, end_session, open_session

__all__ = ["account_handlers"]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no ``//host`` or scheme): no open redirect after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/app"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/app"


async def _login_form(
    request: Request, status: int = 200, errors: dict[str, str] | None = None, email: str = ""
) -> Response[str]:
    login_nonce(request)
    response = await render_console(
        request,
        "console/login.html.jinja",
        status=status,
        title=translate(request, "Log in"),
        errors=errors or {},
        email=email,
        next=_safe_next(request.query_params.get("next")),
    )
    keep_login_nonce(request, response)
    return response


@get("/login")
async def login_page(request: Request) -> Response[str]:
    """The login form."""
    return await _login_form(request)


@post("/login", status_code=303)
async def login_submit(request: Request) -> Response:
    """Check the credentials, set the session cookie, go where the user wanted to go."""
    form = await request.form()
    email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    if not email or not password:
        field = "email" if not email else "password"
        return await _login_form(
            request, 422, {field: translate(request, "Please fill in this field.")}, email
        )
    response = Redirect(_safe_next(form.get("next")), status_code=303)
    try:
        await open_session(request, email, password, response)
    except Problem as exc:
        message = translate(request, exc.detail or exc.title)
        return await _login_form(request, exc.status, {"form": message}, email)
    return response


@post("/logout", guards=[console_session], status_code=303)
async def logout(request: Request, actor: Actor) -> Response:
    """End the session."""
    response = see_other("/app/login", translate(request, "You are logged out."))
    await end_session(request, actor, response)
    return response


@get("/reset")
async def reset_page(request: Request) -> Response[str]:
    """Ask for a password reset link."""
    login_nonce(request)
    response = await render_console(
        request, "console/reset.html.jinja", title=translate(request, "Forgot your password?")
    )
    keep_login_nonce(request, response)
    return response


@post("/reset", status_code=200)
async def reset_submit(request: Request) -> Response[str]:
    """Mail a reset link (the same answer whether or not the address has an account)."""
    form = await request.form()
    email = (form.get("email") or "").strip()
    runtime = request.app.state.orga
    title = translate(request, "Forgot your password?")
    if not email:
        errors = {"email": translate(request, "Please fill in this field.")}
        return await render_console(
            request, "console/reset.html.jinja", status=422, title=title, errors=errors
        )
    try:
        await reset.request_reset(
            email,
            runtime.mailer,
            runtime.settings.public_url,
            console_locale(request),
            client=client_address(request),
        )
    except Problem as exc:
        errors = {"form": translate(request, exc.detail or exc.title)}
        return await render_console(
            request, "console/reset.html.jinja", status=exc.status, title=title, errors=errors
        )
    return await render_console(request, "console/reset.html.jinja", title=title, sent=True)


@get("/", guards=[console_session])
async def index(request: Request, actor: Actor) -> Response:
    """The units the user works in; with only one, straight to its start page."""
    ids = sorted({grant.org_id for grant in actor.grants})
    if len(ids) == 1:
        return Redirect(f"/app/orgs/{ids[0]}", status_code=303)
    return await render_console(
        request, "console/index.html.jinja", title=translate(request, "Your units")
    )


async def _account(request: Request, actor: Actor, status: int = 200, **extra: Any):
    sessions = await services.user_tokens(actor.user_id)
    return await render_console(
        request,
        "console/account.html.jinja",
        status=status,
        title=translate(request, "My account"),
        sessions=sessions,
        current_token=actor.token_id,
        languages=LOCALES,
        errors=extra.pop("errors", {}),
        **extra,
    )


@get("/account", guards=[console_session])
async def account(request: Request, actor: Actor) -> Response[str]:
    """Name, language, password, sessions and tokens."""
    return await _account(request, actor)


@post("/account/name", guards=[console_session], status_code=303)
async def account_name(request: Request, actor: Actor) -> Response:
    """Change the display name."""
    form = await request.form()
    try:
        await services.set_display_name(actor.user_id, form.get("display_name") or "")
    except Problem as exc:
        errors = {e.field: translate(request, e.message) for e in exc.errors or []}
        return await _account(request, actor, 422, errors=errors)
    return see_other("/app/account", translate(request, "Saved."))


@post("/account/language", guards=[console_session], status_code=303)
async def account_language(request: Request) -> Response:
    """Choose the console's language (kept in a cookie of this browser)."""
    form = await request.form()
    language = form.get("language")
    response = see_other("/app/account")
    if language in LOCALES:
        response.set_cookie(
            Cookie(key=LANG_COOKIE, value=language, path="/", samesite="lax", max_age=365 * 86400)
        )
    return response


@post("/account/password", guards=[console_session], status_code=303)
async def account_password(request: Request, actor: Actor) -> Response:
    """Change the password (every other session ends)."""
    form = await request.form()
    try:
        await services.change_password(
            actor.user_id,
            form.get("current_password") or "",
            form.get("new_password") or "",
            keep_token=actor.token_id,
        )
    except Problem as exc:
        errors = {e.field: translate(request, e.message) for e in exc.errors or []}
        return await _account(request, actor, exc.status, errors=errors)
    return see_other("/app/account", translate(request, "Your password is changed."))


@post("/account/sessions/{token_id:int}/revoke", guards=[console_session], status_code=303)
async def account_revoke(request: Request, actor: Actor, token_id: int) -> Response:
    """End one of my sessions or revoke one of my API tokens."""
    await services.revoke_token(token_id, actor.user_id)
    if token_id == actor.token_id:
        return see_other("/app/login")
    return see_other("/app/account", translate(request, "Revoked."))


def account_handlers() -> list[Any]:
    """Handlers mounted under ``/app``."""
    return [
        login_page,
        login_submit,
        logout,
        reset_page,
        reset_submit,
        index,
        account,
        account_name,
        account_language,
        account_password,
        account_revoke,
    ]
