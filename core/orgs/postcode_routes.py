"""``/api/orgs/{org_id}/postcodes``: the postal codes a unit covers."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, put

from core.auth.actor import Actor
from core.auth.guards import OrgScope, requires
from core.orgs import coverage, postcodes

__all__ = ["get_postcodes", "put_postcodes"]

Entry = Annotated[str, msgspec.Meta(min_length=1, max_length=41)]


class PostcodesIn(msgspec.Struct, forbid_unknown_fields=True):
    """The unit's whole coverage: codes (``04109``) and ranges (``04103-04107``)."""

    postal_codes: Annotated[list[Entry], msgspec.Meta(max_length=100_000)]


class PostcodesOut(msgspec.Struct):
    """The unit's coverage, sorted, ranges as ``from-to``."""

    org_id: int
    postal_codes: list[str]


@get("/postcodes", tags=["orgs"], summary="Postal codes this unit covers")
async def get_postcodes(org: OrgScope) -> PostcodesOut:
    """The codes and ranges of this unit (visible to everyone who sees the unit)."""
    return PostcodesOut(org_id=org.id, postal_codes=await postcodes.postcodes_of(org.id))


@put(
    "/postcodes",
    guards=[requires("orgs.manage")],
    tags=["orgs"],
    summary="Set the postal codes this unit covers",
)
async def put_postcodes(actor: Actor, org: OrgScope, data: PostcodesIn) -> PostcodesOut:
    """Replace the coverage of this unit, inside the coverage of the unit above and apart from
    other branches; codes that change hands need ``orgs.manage`` on the unit above that gives or
    takes them (see ``core.orgs.coverage``). A code that cannot be read names the field."""
    await coverage.set_coverage_as(actor, org.id, data.postal_codes)
    return PostcodesOut(org_id=org.id, postal_codes=await postcodes.postcodes_of(org.id))
