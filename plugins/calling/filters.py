"""Segment filters of the calling module: who was called, reached, with which outcome or
survey answer (optionally in one assignment)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from core.segments.filters import FilterContext, SegmentFilter

__all__ = ["AnsweredFilter", "CalledFilter", "OutcomeFilter", "ReachedFilter"]

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
