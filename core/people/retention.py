"""The retention rule: who is erased by ``orga people purge``, and why.

Three kinds of people go, each after its own time without activity (no change of the record,
no consent event):

- ``contact``: contacts without a *current* granted consent on any channel
  (``ORGA_RETENTION_MONTHS``). A consent that was withdrawn later no longer protects the
  record: the rule reads the consent state now, not whether it was ever given.
- ``pending``: records made by a public form whose owner never confirmed them
  (``ORGA_PENDING_RETENTION_DAYS``): nobody proved the data is theirs.
- ``former_member``: former members without a current granted consent
  (``ORGA_FORMER_MEMBER_RETENTION_MONTHS``; 0 keeps them).

Members and sympathizers are never purged by the rule.
"""

from __future__ import annotations

from datetime import datetime

from core import db

__all__ = ["purge_candidates"]

# A granted consent event that no later decision (granted or withdrawn; pending is none) of
# the same channel and purpose replaced: the person consents now.
_CONSENTS_NOW = (
    "EXISTS (SELECT 1 FROM consent_event c WHERE c.person_id = p.id AND c.status = 'granted' "
    "AND NOT EXISTS (SELECT 1 FROM consent_event d WHERE d.person_id = c.person_id "
    "AND d.channel = c.channel AND d.purpose = c.purpose AND d.status <> 'pending' "
    "AND d.id > c.id))"
)


def _quiet_since(mark: str) -> str:
    """No change of the record and no consent event since the parameter ``mark``."""
    return (
        f"p.updated_at < {mark} AND NOT EXISTS (SELECT 1 FROM consent_event e "
        f"WHERE e.person_id = p.id AND e.at >= {mark})"
    )


async def purge_candidates(
    *,
    contacts_before: datetime,
    pending_before: datetime,
    former_members_before: datetime | None,
) -> list[tuple[int, str]]:
    """Ids of the people the rule erases now, each with its reason (the kind above).

    Args:
        contacts_before: contacts quiet since before this go (unless they consent now).
        pending_before: unconfirmed public sign-ups quiet since before this go.
        former_members_before: the same for former members; ``None`` keeps them all.
    """
    rules = [
        ("pending", "p.pending", pending_before),
        (
            "contact",
            f"NOT p.pending AND p.member_status = 'contact' AND NOT {_CONSENTS_NOW}",
            contacts_before,
        ),
    ]
    if former_members_before is not None:
        rules.append(
            (
                "former_member",
                f"NOT p.pending AND p.member_status = 'former_member' AND NOT {_CONSENTS_NOW}",
                former_members_before,
            )
        )
    found: list[tuple[int, str]] = []
    for reason, condition, before in rules:
        rows = await db.fetch(
            f"SELECT p.id FROM person p WHERE {condition} AND {_quiet_since('{}')} ORDER BY p.id",
            before,
            before,
        )
        found += [(row["id"], reason) for row in rows]
    return sorted(found)
