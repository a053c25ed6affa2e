"""Info-stand mode: a volunteer enters a contact on the spot, through the public sign-up."""

from __future__ import annotations

from core.api import db, record
from plugins.linksaktiv.signup import JoinIn, join

__all__ = ["stand_entry"]


async def stand_entry(org_id: int, data: JoinIn, locale: str) -> int:
    """Sign up a contact a volunteer of unit ``org_id`` entered at a stand or a door: the
    same pending record and double opt-in mail as the public form (``signup.join``), the
    unit as where it came from, the consent given "at the info stand"; audited as
    ``linksaktiv.stand_entry`` (the volunteer is the acting user, the source in the detail).
    Returns the pending person's id."""
    async with db.transaction():
        person_id = await join(data, locale, unit=org_id, consent_source="info_stand")
        await record(
            "linksaktiv.stand_entry",
            org_id=org_id,
            object_type="person",
            object_id=person_id,
            detail={"source": data.source},
        )
    return person_id
