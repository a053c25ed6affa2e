"""Built-in roles and their rank (nobody grants a role ranked above their own)."""

from __future__ import annotations

__all__ = ["BUILTIN_ROLES", "rank"]

BUILTIN_ROLES: dict[str, int] = {"admin": 40, "organizer": 30, "caller": 10, "viewer": 10}


def rank(role: str) -> int:
    """The rank of a role; unknown roles rank lowest."""
    return BUILTIN_ROLES.get(role, 1)
