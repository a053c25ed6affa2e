"""Request and response bodies of the calling module."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

__all__ = ["AssignmentIn", "AssignmentOut", "Question"]

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class Question(msgspec.Struct, forbid_unknown_fields=True):
    """A survey question: ``choice`` (pick from ``options``) or free ``text``."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    kind: Literal["choice", "text"] = "text"
    options: list[Annotated[str, msgspec.Meta(min_length=1, max_length=200)]] = []


class AssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new call assignment."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    instructions: Annotated[str, msgspec.Meta(max_length=50_000)] = ""
    target: dict[str, Any] = {}
    goal: dict[str, Any] | None = None
    cooldown_hours: Annotated[int, msgspec.Meta(ge=0, le=8760)] = 24
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    survey: list[Question] = []
    show_earlier_notes: bool = False


class AssignmentOut(msgspec.Struct):
    """A call assignment with its state derived from the dates."""

    id: int
    org_id: int
    title: str
    description: str
    instructions: str
    target: dict[str, Any]
    goal: dict[str, Any] | None
    cooldown_hours: int
    start_at: datetime | None
    end_at: datetime | None
    survey: list[Question]
    show_earlier_notes: bool
    state: Literal["draft", "scheduled", "open", "closed"]
    created_at: datetime
