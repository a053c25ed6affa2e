"""Segment filters of the calling module: who was called, reached, with which outcome or
survey answer (optionally in one assignment), who called most, and whom the queue holds back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from core.api import ActivityFilter, FilterContext, SegmentFilter

__all__ = [
    "RETRY_OUTCOMES",
    "AnsweredFilter",
    "CalledFilter",
    "CallerActivityFilter",
    "OutcomeFilter",
    "QueueBlockedFilter",
    "ReachedFilter",
]

Outcome = Literal[
    "reached",
    "no_answer",
    "busy",
    "voicemail",
    "call_back",
    "not_available",
    "wrong_number",
    "do_not_call",
]
AssignmentId = Annotated[int, msgspec.Meta(ge=1)]
# outcomes after which a target waits out the assignment's cooldown before the next try
RETRY_OUTCOMES = "('no_answer', 'busy', 'voicemail', 'not_available', 'reached')"


def _calls(condition: str, assignment_id: int | None, args: list[Any]) -> tuple[str, list[Any]]:
    sql = "SELECT 1 FROM calling_call c WHERE c.person_id = p.id AND c.state = 'reported'"
    if assignment_id is not None:
        sql += " AND c.assignment_id = {}"
        args = [assignment_id, *args]
    return f"EXISTS ({sql}{condition})", args


class CalledFilter(SegmentFilter, tag="calling_called"):
    """People with a reported call in ``assignment_id`` (any assignment when omitted)."""

    assignment_id: AssignmentId | None = None

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """EXISTS over the person's reported calls."""
        return _calls("", self.assignment_id, [])


class ReachedFilter(SegmentFilter, tag="calling_reached"):
    """People reached by phone in ``assignment_id`` (any assignment when omitted)."""

    assignment_id: AssignmentId | None = None

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """EXISTS over the person's calls with outcome ``reached``."""
        return _calls(" AND c.outcome = 'reached'", self.assignment_id, [])


class OutcomeFilter(SegmentFilter, tag="calling_outcome"):
    """People whose call had ``outcome`` (in ``assignment_id`` when given)."""

    outcome: Outcome
    assignment_id: AssignmentId | None = None

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """EXISTS over the person's calls with that outcome."""
        return _calls(" AND c.outcome = {}", self.assignment_id, [self.outcome])


class AnsweredFilter(SegmentFilter, tag="calling_answered"):
    """People who answered survey question ``question`` of ``assignment_id`` with ``option``."""

    assignment_id: AssignmentId
    question: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")]
    option: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """EXISTS over the person's survey answers."""
        return (
            "EXISTS (SELECT 1 FROM calling_answer a WHERE a.person_id = p.id "
            "AND a.assignment_id = {} AND a.question = {} AND a.value = {})",
            [self.assignment_id, self.question, self.option],
        )


class CallerActivityFilter(ActivityFilter, tag="calling_activity"):
    """ "Most active callers": people who reported at least ``at_least`` calls as the caller
    in the period (``days``, or ``after``/``before``), in ``assignment_id`` or any. Counts the
    calls of user accounts linked to a person record (``orga_user.person_id``)."""

    assignment_id: AssignmentId | None = None

    def activities(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """The reported calls, by the caller's person and the time of the report."""
        sql = (
            "SELECT u.person_id AS person_id, c.reported_at AS at FROM calling_call c "
            "JOIN orga_user u ON u.id = c.caller_id WHERE c.state = 'reported'"
        )
        if self.assignment_id is None:
            return sql, []
        return sql + " AND c.assignment_id = {}", [self.assignment_id]


_QUEUE_SQL = {
    "reserved": "(t.current_call_id IS NOT NULL AND t.available_at > {})",
    "cooldown": (
        "(t.current_call_id IS NULL AND t.available_at > {} "
        f"AND t.last_outcome IN {RETRY_OUTCOMES})"
    ),
    "call_back": "t.call_back_after > {}",
}


class QueueBlockedFilter(SegmentFilter, tag="calling_blocked"):
    """People an open call queue holds back right now for any of ``reasons``: ``reserved`` (a
    caller has them), ``cooldown`` (called, waiting out the assignment's cooldown before the
    next try), ``call_back`` (a call back is agreed for later); in ``assignment_id`` or any.
    The person's own reasons (no number, do-not-contact, phone consent withdrawn) are core's
    ``call_blocked``."""

    reasons: Annotated[
        list[Literal["reserved", "cooldown", "call_back"]],
        msgspec.Meta(min_length=1, max_length=3),
    ] = msgspec.field(default_factory=lambda: ["reserved", "cooldown", "call_back"])
    assignment_id: AssignmentId | None = None

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """EXISTS over the person's open queue entries in one of the reasons' states."""
        reasons = list(dict.fromkeys(self.reasons))
        sql = "SELECT 1 FROM calling_target t WHERE t.person_id = p.id AND t.state = 'open'"
        args: list[Any] = []
        if self.assignment_id is not None:
            sql += " AND t.assignment_id = {}"
            args.append(self.assignment_id)
        condition = " OR ".join(_QUEUE_SQL[r] for r in reasons)
        return f"EXISTS ({sql} AND ({condition}))", [*args, *([ctx.now] * len(reasons))]
