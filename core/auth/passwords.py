"""Password rules and argon2id hashing (run off the event loop)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from core.problems import invalid

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "check_password_rules", "hash_password", "verify_password"]

MIN_LENGTH = 12
MAX_LENGTH = 128
# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_rules(password: str, field: str = "password") -> None:
    """Reject a password that is too short, too long, common, or trivially guessable.

    Raises:
        Problem: 422 naming ``field`` and the rule that failed.
    """
    if len(password) < MIN_LENGTH:
        raise invalid(field, f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise invalid(field, f"must be at most {MAX_LENGTH} characters")
    if password.lower() in _common_passwords():
        raise invalid(field, "is on the list of commonly used passwords")
    if zxcvbn(password[:64])["score"] < 2:
        raise invalid(field, "is too easy to guess (repeated or sequential characters, words)")


async def hash_password(password: str) -> str:
    """Hash with argon2id in a worker thread."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in a worker thread; an unknown user still costs one verification."""
    if not password_hash:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("orga-timing-equalizer-not-a-password")
