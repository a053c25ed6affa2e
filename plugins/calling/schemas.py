"""Request and response bodies of the calling module."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from core.api import AwareDatetime, SegmentDefinition
from plugins.calling.filters import Outcome

__all__ = [
    "AssignmentIn",
    "AssignmentOut",
    "AssignmentPatch",
    "CallOut",
    "CallPerson",
    "CallReport",
    "CallbackIn",
    "CallerIn",
    "CallerOut",
    "DuplicateIn",
    "EarlierCall",
    "FollowUpOut",
    "FollowUpPatch",
    "MyAssignment",
    "Question",
    "Stats",
]

TagNames = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]], msgspec.Meta(max_length=50)
]
State = Literal["draft", "scheduled", "open", "closed"]


class Question(msgspec.Struct, forbid_unknown_fields=True):
    """A survey question: ``choice`` (pick from ``options``; several when ``multiple``) or
    free ``text``."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    kind: Literal["choice", "text"] = "text"
    options: list[Annotated[str, msgspec.Meta(min_length=1, max_length=200)]] = []
    multiple: bool = False


Survey = Annotated[list[Question], msgspec.Meta(max_length=30)]


class AssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new call assignment. ``target``/``goal`` are segments (``{"filters": [...]}``);
    without a goal, a person counts as done once reached in this assignment."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    target: SegmentDefinition
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    instructions: Annotated[str, msgspec.Meta(max_length=50_000)] = ""
    goal: SegmentDefinition | None = None
    cooldown_hours: Annotated[int, msgspec.Meta(ge=0, le=8760)] = 24
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    survey: Survey = []
    show_earlier_notes: bool = False


class AssignmentPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Change an assignment; a new ``target`` refreshes the queue."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    description: Annotated[str, msgspec.Meta(max_length=10_000)] | msgspec.UnsetType = msgspec.UNSET
    instructions: Annotated[str, msgspec.Meta(max_length=50_000)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    target: SegmentDefinition | msgspec.UnsetType = msgspec.UNSET
    goal: SegmentDefinition | msgspec.UnsetType | None = msgspec.UNSET
    cooldown_hours: Annotated[int, msgspec.Meta(ge=0, le=8760)] | msgspec.UnsetType = msgspec.UNSET
    start_at: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET
    end_at: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET
    survey: Survey | msgspec.UnsetType = msgspec.UNSET
    show_earlier_notes: bool | msgspec.UnsetType = msgspec.UNSET


class AssignmentOut(msgspec.Struct):
    """A call assignment with its state derived from the dates."""

    id: int
    org_id: int
    title: str
    description: str
    instructions: str
    target: SegmentDefinition
    goal: SegmentDefinition | None
    cooldown_hours: int
    start_at: datetime | None
    end_at: datetime | None
    survey: list[Question]
    show_earlier_notes: bool
    state: State
    targets: int
    targets_refreshed_at: datetime | None
    created_at: datetime


class DuplicateIn(msgspec.Struct, forbid_unknown_fields=True):
    """The title of an assignment's copy."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CallerIn(msgspec.Struct, forbid_unknown_fields=True):
    """Put a user on the roster, with tags to call first and tags to leave out."""

    user_id: Annotated[int, msgspec.Meta(ge=1)]
    prioritized_tags: TagNames = []
    excluded_tags: TagNames = []


class CallerOut(msgspec.Struct):
    """A user on an assignment's roster."""

    user_id: int
    display_name: str
    prioritized_tags: list[str]
    excluded_tags: list[str]
    calls: int


class EarlierCall(msgspec.Struct):
    """An earlier call of this assignment (shown when the assignment allows it)."""

    outcome: str | None
    notes: str | None
    at: datetime | None


class CallPerson(msgspec.Struct):
    """Only what a caller needs for this call (data minimization)."""

    id: int
    first_name: str
    last_name: str
    phones: list[str]
    home_unit: str
    tags: list[str]
    earlier_calls: list[EarlierCall] | None
    member_status: str = ""
    in_records_since: datetime | None = None


class CallOut(msgspec.Struct):
    """A reservation: the person to call, until when, and the survey to ask."""

    call_id: int
    assignment_id: int
    reserved_until: datetime
    person: CallPerson
    survey: list[Question]
    instructions: str


class CallbackIn(msgspec.Struct, forbid_unknown_fields=True):
    """Call one specific person back (someone this caller called before here)."""

    person_id: Annotated[int, msgspec.Meta(ge=1)]


class CallReport(msgspec.Struct, forbid_unknown_fields=True):
    """How the call went, what was answered and what should follow. With ``wrong_number``,
    ``phone`` names the wrong number and ``corrected_phone`` (optional) the right one, added
    to the person's numbers."""

    outcome: Outcome
    notes: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    call_back_after: AwareDatetime | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    corrected_phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    answers: dict[str, str | list[str]] = {}
    add_tags: TagNames = []
    wants_local_contact: bool = False
    organizer_action: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    phone_opt_out: bool = False


class PreviousCall(msgspec.Struct, forbid_unknown_fields=True):
    """The call just made, reported together with asking for the next one."""

    call_id: int
    report: CallReport


class NextIn(msgspec.Struct, forbid_unknown_fields=True):
    """Optional body of ``next``: report the previous call in the same request ("save and
    next", one round trip per call instead of two)."""

    previous: PreviousCall | None = None


class MyOpenCall(msgspec.Struct):
    """A reservation the user holds right now."""

    call_id: int
    reserved_until: datetime


class MyAssignment(msgspec.Struct):
    """An assignment the user is on, with the unit to call it through and open calls."""

    id: int
    org_id: int
    org_name: str
    title: str
    state: State
    open_calls: list[MyOpenCall]


class FollowUpOut(msgspec.Struct):
    """A follow-up for organizers of the person's home unit."""

    id: int
    person_id: int
    first_name: str
    last_name: str
    home_org_id: int
    kind: str
    message: str
    status: str
    assignment_id: int | None
    created_at: datetime
    done_at: datetime | None
    assigned_to: int | None = None
    assigned_name: str | None = None
    note: str = ""


class FollowUpPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Close or reopen a follow-up, assign it to a user (``null``: to nobody), and keep a
    note (what was done)."""

    status: Literal["open", "done"] | msgspec.UnsetType = msgspec.UNSET
    assigned_to: Annotated[int, msgspec.Meta(ge=1)] | msgspec.UnsetType | None = msgspec.UNSET
    note: Annotated[str, msgspec.Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET


class CountRow(msgspec.Struct):
    """A labelled group of counts."""

    key: str
    label: str
    parent: str | None = None
    calls: int = 0
    reached: int = 0
    targets: int = 0
    done: int = 0


class DayRow(msgspec.Struct):
    """Calls and reached people on one day (UTC)."""

    day: date
    calls: int
    reached: int


class Stats(msgspec.Struct):
    """Progress of an assignment: ``targets`` = ``done`` (goal met or closed) + ``remaining``
    (still to call; ``ready`` of them callable right now, the others ``blocked`` by reason:
    ``reserved`` with a caller now, ``cooldown``, ``call_back``, ``no_number``,
    ``do_not_call``, ``organizer_action`` open); ``outcomes``: reported calls per outcome."""

    targets: int
    goal_matches: int
    remaining: int
    calls: int
    reached: int
    blocked: dict[str, int]
    per_caller: list[CountRow]
    per_day: list[DayRow]
    per_unit: list[CountRow]
    done: int = 0
    ready: int = 0
    outcomes: dict[str, int] = {}
