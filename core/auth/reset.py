"""Password reset by e-mail link: single use, valid for 30 minutes, sent through core mail."""

from __future__ import annotations

import secrets
from datetime import timedelta

from core import db
from core.audit.services import record
from core.auth import throttle
from core.auth.actor import hash_token
from core.auth.passwords import check_password_rules, hash_password
from core.auth.services import normalize_email
from core.auth.tables import AuthToken, PasswordReset, User
from core.cache import drop_cached
from core.mail.service import Mailer
from core.problems import Problem
from core.tables import utcnow

__all__ = ["RESET_LIFETIME", "confirm_reset", "password_link", "request_reset"]

RESET_LIFETIME = timedelta(minutes=30)
MAX_REQUESTS_PER_ACCOUNT = 3
MAX_REQUESTS_PER_ADDRESS = 10


async def request_reset(
    email: str, mailer: Mailer, public_url: str, locale: str, *, client: str
) -> None:
    """Send a reset link if an active user has ``email``; silently do nothing otherwise.

    Requests are counted per e-mail address asked for and per client address, whether or not
    an account exists (so the answer says nothing about that); past either limit within the
    throttle window the answer is 429 and no mail goes out.

    Raises:
        Problem: 429 ``reset-throttled`` with ``Retry-After``.
    """
    email = normalize_email(email)
    account = throttle.key("reset-account", email)
    address = throttle.key("reset-address", client)
    requests = await throttle.counts([account, address])
    if (
        requests[account] >= MAX_REQUESTS_PER_ACCOUNT
        or requests[address] >= MAX_REQUESTS_PER_ADDRESS
    ):
        raise throttle.refused("reset-throttled", "Too many reset requests. Try again later.")
    await throttle.note([account, address])
    user = (
        await User.select(User.id, User.display_name, User.active)
        .where(User.email == email)
        .first()
        .run()
    )
    if user is None or not user["active"]:
        return
    async with db.transaction():
        link = await password_link(user["id"], RESET_LIFETIME, public_url)
        await mailer.send(
            to_email=email,
            to_name=user["display_name"],
            template="mail/password_reset",
            context={"user_name": user["display_name"], "link": link, "locale": locale},
            locale=locale,
        )
        await record(
            "auth.password_reset_requested",
            user_id=user["id"],
            object_type="user",
            object_id=user["id"],
        )


async def password_link(user_id: int, lifetime: timedelta, public_url: str) -> str:
    """A new single-use link to set the user's password (a reset, or an invitation's first
    password), valid for ``lifetime``."""
    secret = secrets.token_urlsafe(32)
    await PasswordReset.insert(
        PasswordReset(user=user_id, token_hash=hash_token(secret), expires_at=utcnow() + lifetime)
    ).run()
    return f"{public_url.rstrip('/')}/p/auth/reset/{secret}"


def _invalid_link() -> Problem:
    return Problem(
        400, "reset-link-invalid", "This reset link is unknown, used or expired. Ask for a new one."
    )


async def confirm_reset(secret: str, new_password: str) -> None:
    """Set a new password through a reset link (once); every session of the user ends.

    Raises:
        Problem: 400 ``reset-link-invalid`` for an unknown, used or expired link, 422 when the
            password breaks a rule (the link stays usable then).
    """
    check_password_rules(new_password, field="new_password")
    password_hash = await hash_password(new_password)
    now = utcnow()
    async with db.transaction():
        used = await db.fetch(
            "UPDATE password_reset SET used_at = {}, updated_at = {} "
            "WHERE token_hash = {} AND used_at IS NULL AND expires_at > {} RETURNING user_id",
            now,
            now,
            hash_token(secret),
            now,
        )
        if not used:
            raise _invalid_link()
        user_id = used[0]["user_id"]
        await User.update({User.password_hash: password_hash}).where(User.id == user_id).run()
        await (
            AuthToken.update({AuthToken.revoked_at: now})
            .where((AuthToken.user == user_id) & AuthToken.revoked_at.is_null())
            .run()
        )
        await record("auth.password_reset", user_id=user_id, object_type="user", object_id=user_id)
    drop_cached("auth_token")
