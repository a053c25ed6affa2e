"""Segment filters "interested in topic" (confirmed activists only) and "did at least N calls
to action in a period"."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from core.api import ActivityFilter, FilterContext, SegmentFilter

__all__ = ["ActionActivityFilter", "InterestedInTopic"]


class InterestedInTopic(SegmentFilter, tag="linksaktiv_topic"):
    """Confirmed activists interested in any of ``topics`` (slugs)."""

    topics: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=50)]],
        msgspec.Meta(min_length=1, max_length=50),
    ]

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Person has a confirmed activist row and an interest in one of the topics."""
        marks = ", ".join(["{}"] * len(self.topics))
        return (
            "p.id IN (SELECT i.person_id FROM linksaktiv_interest i "
            "JOIN linksaktiv_topic t ON t.id = i.topic_id "
            "JOIN linksaktiv_activist a ON a.person_id = i.person_id "
            f"WHERE a.status = 'confirmed' AND t.slug IN ({marks}))",
            list(self.topics),
        )


class ActionActivityFilter(ActivityFilter, tag="linksaktiv_activity"):
    """ "Most active": people who reported at least ``at_least`` calls to action done ("I did
    it") in the period (``days``, or ``after``/``before``)."""

    def activities(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Calls to action done, at the time they were reported."""
        return "SELECT d.person_id AS person_id, d.done_at AS at FROM linksaktiv_call_done d", []
