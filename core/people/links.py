"""Signed links that belong to a person and die with them.

A link sent to a person (confirm, cancel, personal page, unsubscribe) carries a signed token
(:mod:`core.signing`) whose value includes one of the person's *link keys*: 128 random bits
kept in ``person_link_key``. A token opens only while its key exists, so

- erasing the person deletes their keys (``ON DELETE CASCADE``) and voids every link, even
  if a later person were given the same id;
- a change of the person's e-mail address deletes their keys (a trigger on ``person``, so
  every path that writes the address is covered) and voids every link mailed before;
- merging people moves the merged person's keys to the kept one, so links in mails the
  merged record received keep working for the same human.
"""

from __future__ import annotations

import secrets
from typing import Any

from core import db
from core.signing import BadToken, sign, unsign

__all__ = ["link_keys", "open_person_token", "person_token", "person_tokens"]


async def link_keys(person_ids: list[int]) -> dict[int, str]:
    """The current link key of each person (made where a person has none yet)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    marks = ", ".join(["{}"] * len(ids))
    rows = await db.fetch(
        f"SELECT person_id, key FROM person_link_key WHERE person_id IN ({marks}) ORDER BY id",
        *ids,
    )
    keys = {row["person_id"]: row["key"] for row in rows}
    missing = [pid for pid in ids if pid not in keys]
    if missing:
        fresh = {pid: secrets.token_hex(16) for pid in missing}
        await db.execute(
            "INSERT INTO person_link_key (person_id, key, created_at) VALUES "
            + ", ".join(["({}, {}, CURRENT_TIMESTAMP)"] * len(fresh)),
            *[value for pid, key in fresh.items() for value in (pid, key)],
        )
        keys.update(fresh)
    return keys


async def person_token(purpose: str, person_id: int, value: Any = None) -> str:
    """A token for ``purpose`` that opens only while ``person_id`` keeps their link key."""
    key = (await link_keys([person_id]))[person_id]
    return sign(purpose, [key, value])


async def person_tokens(purpose: str, values: dict[int, Any]) -> dict[int, str]:
    """Tokens for many people at once: ``{person_id: value}`` to ``{person_id: token}``."""
    keys = await link_keys(list(values))
    return {pid: sign(purpose, [keys[pid], value]) for pid, value in values.items()}


async def open_person_token(
    purpose: str, token: str, *, max_age: float | None = None
) -> tuple[int, Any]:
    """The person a token made by :func:`person_token` belongs to now, and its value.

    Raises:
        BadToken: when the token is malformed, forged, expired, or its key is gone (the
            person was erased or changed their e-mail address since).
    """
    payload = unsign(purpose, token, max_age=max_age)
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)):
        raise BadToken("malformed token")
    key, value = payload
    row = await db.fetch_one("SELECT person_id FROM person_link_key WHERE key = {}", key)
    if row is None:
        raise BadToken("the link is no longer valid")
    return int(row["person_id"]), value
