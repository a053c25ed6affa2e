"""The call screen's bridge between modules: sections other modules add to a call card
(hook ``call_card_sections``) and the grant their forms carry back.

A caller may reach people outside their own unit (a district's volunteer in the federal
campaign). The calling module therefore signs a *grant* per card (the person, the caller, a
short life); a module's form posts it back and the module's handler reads it with
:func:`read_call_grant` instead of looking for a role on the person's unit.
"""

from __future__ import annotations

from typing import Any

from core.orgs.services import module_states
from core.problems import Problem
from core.signing import BadToken, sign, unsign
from core.web.contract import CallSection

__all__ = ["call_card_return", "call_card_sections", "call_grant", "read_call_grant"]

_PURPOSE = "console.call-card"
GRANT_SECONDS = 2 * 60 * 60  # a long call plus its report


def call_grant(person_id: int, user_id: int) -> str:
    """A token saying user ``user_id`` is calling ``person_id`` now (valid two hours)."""
    return sign(_PURPOSE, [person_id, user_id])


def read_call_grant(token: str | None, user_id: int) -> int:
    """The person a grant made by :func:`call_grant` for ``user_id`` names.

    Raises:
        Problem: 403 when the grant is missing, forged, another user's or expired.
    """
    try:
        person_id, owner = unsign(_PURPOSE, token or "", max_age=GRANT_SECONDS)
    except (BadToken, ValueError, TypeError):
        person_id, owner = None, None
    if owner != user_id or not isinstance(person_id, int):
        raise Problem(403, "no-call-grant", "This call is no longer yours.")
    return person_id


def call_card_return(value: str | None, fallback: str) -> str:
    """Where a call card form goes back to: the posted ``return_to`` when it is a console
    address of this site, else ``fallback`` (never another site)."""
    if value and value.startswith("/app/") and "//" not in value and "\\" not in value:
        return value
    return fallback


async def call_card_sections(
    registry: Any,
    *,
    person_id: int,
    org_id: int,
    org_path: str,
    assignment_org_id: int,
    actor: Any,
    locale: str,
) -> list[CallSection]:
    """The sections of every module that is on for unit ``org_path`` (hook
    ``call_card_sections``), lowest ``order`` first."""
    installed = sorted(registry.modules)
    states = await module_states(org_path, installed) if installed else {}
    asked = [name for name in installed if states.get(name)]
    if not asked:
        return []
    found = await registry.gather_each(
        "call_card_sections",
        only=asked,
        person_id=person_id,
        org_id=org_id,
        org_path=org_path,
        assignment_org_id=assignment_org_id,
        actor=actor,
        locale=locale,
    )
    return sorted((s for _name, sections in found for s in sections), key=lambda s: s.order)
