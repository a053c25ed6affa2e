"""Signed, expiring tokens for links sent to people (confirm, cancel, unsubscribe, magic links).

A token is ``<payload>.<mac>``: the payload is a compact msgspec JSON value in base64url, the
MAC an HMAC-SHA256 (truncated to 128 bits) under a key derived from the deployment's secret key
and the token's ``purpose``, so a token made for one purpose never opens another. Nothing is
stored; rotating ``ORGA_SECRET_KEY`` invalidates every outstanding link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import msgspec

from core.context import current_runtime

__all__ = ["BadToken", "check_short_mac", "short_mac", "sign", "unsign"]

_MAC_BYTES = 16
_SHORT_MAC_BYTES = 8


class BadToken(Exception):
    """The token is malformed, forged, made for another purpose or expired."""


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), b"orga-signing:" + purpose.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(purpose: str, value: Any, *, secret: str | None = None) -> str:
    """A URL-safe token carrying ``value`` (any msgspec-encodable value) for ``purpose``.

    Args:
        purpose: what the token opens, e.g. ``"events.cancel"``.
        value: the data to carry (ids, not personal data: the payload is readable).
        secret: the key; default: the current deployment's secret key.
    """
    secret = secret or current_runtime().settings.secret_key
    payload = _b64(msgspec.json.encode([int(time.time()), value]))
    mac = hmac.new(_key(secret, purpose), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac[:_MAC_BYTES])}"


def unsign(purpose: str, token: str, *, max_age: float | None = None, secret: str | None = None):
    """The value of a token made by :func:`sign` for ``purpose``.

    Args:
        purpose: must equal the purpose the token was signed for.
        token: the token from the link.
        max_age: seconds the token stays valid (``None``: no expiry).
        secret: the key; default: the current deployment's secret key.

    Raises:
        BadToken: when the token is malformed, forged, for another purpose or too old.
    """
    secret = secret or current_runtime().settings.secret_key
    payload, dot, mac = token.partition(".")
    if not dot or not payload or len(token) > 2048:
        raise BadToken("malformed token")
    expected = hmac.new(_key(secret, purpose), payload.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
    except ValueError as exc:
        raise BadToken("malformed token") from exc
    if not hmac.compare_digest(expected[:_MAC_BYTES], given):
        raise BadToken("bad signature")
    try:
        issued, value = msgspec.json.decode(_unb64(payload))
    except (ValueError, msgspec.DecodeError) as exc:
        raise BadToken("malformed token") from exc
    if max_age is not None and time.time() - issued > max_age:
        raise BadToken("expired")
    return value


def short_mac(purpose: str, text: str, *, secret: str | None = None) -> str:
    """A short signature (64 bits, 11 characters, URL-safe) of ``text`` for ``purpose``, for
    printed links a person may have to type: the link carries ``text`` in the clear and this
    MAC beside it. Never expires (paper stays around); rotating the secret voids it.

    Args:
        purpose: what the link opens, e.g. ``"linksaktiv.short"``.
        text: the data of the link (ids and codes, not personal data).
        secret: the key; default: the current deployment's secret key.
    """
    secret = secret or current_runtime().settings.secret_key
    mac = hmac.new(_key(secret, purpose), text.encode(), hashlib.sha256).digest()
    return _b64(mac[:_SHORT_MAC_BYTES])


def check_short_mac(purpose: str, text: str, mac: str, *, secret: str | None = None) -> bool:
    """Whether ``mac`` is :func:`short_mac` of ``text`` for ``purpose`` (constant time)."""
    expected = short_mac(purpose, text, secret=secret)
    return hmac.compare_digest(expected.encode(), mac.encode())
