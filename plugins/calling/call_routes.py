"""The caller's routes: next, call back, the call card, release, report; ``/api/me/calling``."""

from __future__ import annotations

from typing import Any

from litestar import Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.api import (
    Actor,
    OrgScope,
    Page,
    Problem,
    authenticated,
    db,
    requires,
    utcnow,
)
from plugins.calling import caller, calls, queue, roster
from plugins.calling.schemas import (
    CallbackIn,
    CallOut,
    CallReport,
    MyAssignment,
    NextIn,
)
from plugins.calling.views import call_view, card_out

__all__ = ["call_handlers", "me_handlers"]

CALL = [requires("calling.call")]
# The caller's hot path runs without the request's transaction (see docs/design.md): each of
# these handlers refuses before it writes, and its writes are one statement or one transaction
# (save-and-next: the report's, then the reservation's), so the BEGIN/COMMIT round trips and
# the write lock held over the card's reads would buy nothing.
OWN_TRANSACTIONS = {db.REQUEST_TRANSACTION: False}


async def _open_assignment(assignment_id: int, org: OrgScope, actor: Actor):
    return await caller.open_assignment(assignment_id, org.path, actor.user_id, utcnow())


async def _hand_out(
    assignment: dict[str, Any], reservation: queue.Reservation | None
) -> Response[CallOut] | Response[None]:
    """The call card of a reservation (the queue audited it), or 204."""
    if reservation is None:
        return Response(None, status_code=HTTP_204_NO_CONTENT)
    if reservation.card is not None:
        view = await card_out(
            assignment,
            reservation.call_id,
            reservation.person_id,
            reservation.reserved_until,
            reservation.card,
        )
    else:
        view = await call_view(
            assignment, reservation.call_id, reservation.person_id, reservation.reserved_until
        )
    return Response(view)


@post(
    "/assignments/{assignment_id:int}/next",
    guards=CALL,
    status_code=200,
    summary="Reserve the next person to call",
    operation_id="calling_next",
    responses={204: ResponseSpec(None, description="Nobody is left to call")},
    opt=OWN_TRANSACTIONS,
)
async def next_call(
    actor: Actor, org: OrgScope, assignment_id: int, data: NextIn | None = None
) -> Response[CallOut]:
    """The next person of the queue, reserved for you (204 when nobody is left to call).

    With ``previous`` the call you just made is reported first, exactly as ``…/report`` would
    ("save and next"); when that report is refused, nothing is reserved and the problem names
    the field under ``previous.report``."""
    assignment, entry = await _open_assignment(assignment_id, org, actor)
    previous = data.previous if data is not None else None
    reservation = await caller.save_and_next(actor, org.path, assignment, entry, previous, utcnow())
    return await _hand_out(assignment, reservation)  # type: ignore[return-value]


def _audit(actor: Actor, assignment: dict[str, Any]) -> queue.Audit:
    return actor.user_id, actor.token_id, assignment["org_id"]


@post(
    "/assignments/{assignment_id:int}/callback",
    guards=CALL,
    status_code=200,
    summary="Call one person back",
)
async def call_back(actor: Actor, org: OrgScope, assignment_id: int, data: CallbackIn) -> CallOut:
    """Reserve a person you called before in this assignment, ignoring their cooldown (409
    when they are being called or may not be called)."""
    assignment, entry = await _open_assignment(assignment_id, org, actor)
    audit = _audit(actor, assignment)
    reservation = await calls.call_back(assignment, entry, data.person_id, utcnow(), audit)
    if reservation is None:
        raise Problem(409, "not-callable", "This person cannot be called right now.")
    return (await _hand_out(assignment, reservation)).content  # type: ignore[return-value]


async def _my_call(call_id: int, org: OrgScope, actor: Actor) -> tuple[dict, dict]:
    """The actor's own call of an assignment visible from this unit, else 404."""
    return await roster.my_call(call_id, org.path, actor.user_id)


@get(
    "/calls/{call_id:int}",
    guards=CALL,
    summary="The card of a reserved call",
    opt=OWN_TRANSACTIONS,
)
async def get_call(actor: Actor, org: OrgScope, call_id: int) -> CallOut:
    """The person to call, only while the reservation is yours and live."""
    return await calls.view_call(call_id, org.path, actor.user_id)


@delete(
    "/calls/{call_id:int}",
    guards=CALL,
    status_code=HTTP_204_NO_CONTENT,
    summary="Skip: release a reservation",
)
async def release_call(actor: Actor, org: OrgScope, call_id: int) -> None:
    """Give the person back to the queue without calling."""
    await _my_call(call_id, org, actor)
    await queue.release(call_id, utcnow())


@post(
    "/calls/{call_id:int}/report",
    guards=CALL,
    status_code=HTTP_204_NO_CONTENT,
    summary="Report how a call went",
    opt=OWN_TRANSACTIONS,
)
async def report(actor: Actor, org: OrgScope, call_id: int, data: CallReport) -> None:
    """Outcome, notes, survey answers and follow-ups of your reserved call."""
    await caller.report(actor, org.path, call_id, data, utcnow())


@get("/me/calling", guards=[authenticated], tags=["calling"], summary="My call assignments")
async def my_assignments(
    actor: Actor, limit: int = 50, cursor: str | None = None
) -> Page[MyAssignment]:
    """Assignments you are on, across all units, newest first (keyset pages), each with the
    unit to call it through and your live reservations."""
    return await caller.my_assignments(actor, limit, cursor, utcnow())


def call_handlers() -> list:
    """The caller's routes under the org unit."""
    return [next_call, call_back, get_call, release_call, report]


def me_handlers() -> list:
    """``/api/me/calling``."""
    return [my_assignments]
