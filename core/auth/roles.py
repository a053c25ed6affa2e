"""Roles: the built-in ones with their rank (nobody grants a role ranked above their own) and
what a deployment changes in ``orga.toml`` (``[orga.roles.<name>]``, docs/operations.md).

A role's permissions are those whose ``Permission.default_roles`` name it (core's and every
loaded module's), unless the deployment lists them (``permissions``), adds some (``add``) or
takes some away (``remove``). A deployment may add roles of its own with a ``rank`` (1 to 40) and
a ``label``. :func:`build_roles` checks all of it against the declared permissions once, at
start-up, and stops with a :class:`~core.settings.SettingsError` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from core.settings import RoleConfig, SettingsError

__all__ = ["BUILTIN_ROLES", "MAX_RANK", "Roles", "build_roles"]

BUILTIN_ROLES: dict[str, int] = {"admin": 40, "organizer": 30, "caller": 10, "viewer": 10}
MAX_RANK = BUILTIN_ROLES["admin"]
_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")


@dataclass(frozen=True)
class Roles(Mapping[str, frozenset[str]]):
    """The deployment's roles: a mapping of role name to its permissions, with ranks.

    Attributes:
        permissions: every role's permission names (also roles a module's ``default_roles``
            name that nobody can grant).
        ranks: the rank of every grantable role (built-in and configured).
        labels: the display label of each configured additional role.
    """

    permissions: dict[str, frozenset[str]]
    ranks: dict[str, int] = field(default_factory=lambda: dict(BUILTIN_ROLES))
    labels: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, role: str) -> frozenset[str]:
        return self.permissions[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self.permissions)

    def __len__(self) -> int:
        return len(self.permissions)

    def rank(self, role: str) -> int:
        """The rank of a role; unknown roles rank lowest."""
        return self.ranks.get(role, 1)

    def grantable(self) -> list[str]:
        """The roles one can give, highest rank first (built-in order among equals)."""
        order = list(self.ranks)
        return sorted(self.ranks, key=lambda role: (-self.ranks[role], order.index(role)))

    def holding(self, permission: str) -> list[str]:
        """The roles that carry ``permission``, by name."""
        return sorted(role for role, names in self.permissions.items() if permission in names)


def _defaults(permissions: Mapping[str, object]) -> dict[str, set[str]]:
    """Each role's permissions from the registered ``Permission.default_roles``."""
    table: dict[str, set[str]] = {role: set() for role in BUILTIN_ROLES}
    for permission in permissions.values():
        for role in permission.default_roles:  # type: ignore[attr-defined]
            table.setdefault(role, set()).add(permission.name)  # type: ignore[attr-defined]
    return table


def _check_names(key: str, names: tuple[str, ...], declared: Mapping[str, object]) -> None:
    unknown = [name for name in names if name not in declared]
    if unknown:
        raise SettingsError(
            f"{key}: unknown permission {unknown[0]!r} (core and the loaded modules declare: "
            f"{', '.join(sorted(declared))})"
        )


def build_roles(configured: Mapping[str, RoleConfig], permissions: Mapping[str, object]) -> Roles:
    """The deployment's :class:`Roles`: the built-in defaults changed by ``[orga.roles]``.

    Args:
        configured: ``Settings.roles`` (role name → its table in orga.toml).
        permissions: the registered permissions by name (core's and the loaded modules').

    Raises:
        SettingsError: naming the key (``orga.roles.organizer.add``) of an unknown permission,
            a bad role name, or a rank that is missing, out of range or given to a built-in
            role.
    """
    table = _defaults(permissions)
    ranks = dict(BUILTIN_ROLES)
    labels: dict[str, str] = {}
    for role, config in configured.items():
        key = f"orga.roles.{role}"
        if not _NAME.fullmatch(role):
            raise SettingsError(f"{key}: a role name is lower-case letters, digits and _")
        if role in BUILTIN_ROLES:
            if config.rank is not None or config.label is not None:
                raise SettingsError(f"{key}.rank: a built-in role keeps its rank and label")
        elif config.rank is None or not 1 <= config.rank <= MAX_RANK:
            raise SettingsError(f"{key}.rank: an additional role needs a rank from 1 to {MAX_RANK}")
        else:
            ranks[role] = config.rank
            labels[role] = config.label or role
        for name in ("permissions", "add", "remove"):
            _check_names(f"{key}.{name}", getattr(config, name) or (), permissions)
        names = table.get(role, set()) if config.permissions is None else set(config.permissions)
        table[role] = (names | set(config.add)) - set(config.remove)
    return Roles({role: frozenset(names) for role, names in table.items()}, ranks, labels)
