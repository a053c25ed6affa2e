"""Tables of the calling module.

``calling_target`` is the queue: one row per person an assignment targets, materialized from
the target segment. ``available_at`` says when the row may be handed out next (cooldown, call
back, reservation); ``calling_lock`` holds one row per person being called right now, with a
unique index on ``person_id``, so two callers can never have the same person at once, across
all assignments.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.api import OrgUnit, Person, Stamped, Versioned

__all__ = [
    "Call",
    "CallAnswer",
    "CallAssignment",
    "CallLock",
    "CallTarget",
    "Caller",
    "FollowUp",
]


class CallAssignment(Stamped, Versioned, Table, tablename="calling_assignment"):
    """Whom to call (``target`` segment), who counts as done (``goal``), and the survey."""

    org = ForeignKey(OrgUnit, on_delete=OnDelete.cascade, db_column_name="org_id")
    title = Varchar(length=200)
    description = Text(default="")
    instructions = Text(default="")
    target = JSON(default="{}")
    goal = JSON(null=True, default=None)
    cooldown_hours = Integer(default=24)
    start_at = Timestamptz(null=True, default=None)
    end_at = Timestamptz(null=True, default=None)
    survey = JSON(default="[]")
    show_earlier_notes = Boolean(default=False)
    targets_refreshed_at = Timestamptz(null=True, default=None)


class Caller(Stamped, Table, tablename="calling_caller"):
    """A user on an assignment's roster, with tags to call first and tags to leave out."""

    assignment = ForeignKey(
        CallAssignment, on_delete=OnDelete.cascade, db_column_name="assignment_id"
    )
    user_id = Integer()
    prioritized_tags = JSON(default="[]")
    excluded_tags = JSON(default="[]")


class CallTarget(Table, tablename="calling_target"):
    """One person in an assignment's queue: ``open`` (callable from ``available_at``),
    ``done`` (reached, goal matched or do not call) or ``removed`` (left the target segment)."""

    assignment = ForeignKey(
        CallAssignment, on_delete=OnDelete.cascade, db_column_name="assignment_id"
    )
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    state = Varchar(length=10, default="open")
    available_at = Timestamptz()
    call_back_after = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_outcome = Varchar(length=20, null=True, default=None)
    blocked = Varchar(length=20, null=True, default=None)
    current_call_id = Integer(null=True, default=None)


class CallLock(Table, tablename="calling_lock"):
    """The person being called right now (unique per person) until ``until``."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    target_id = Integer()
    call_id = Integer()
    until = Timestamptz()


class Call(Table, tablename="calling_call"):
    """One reservation and, once reported, the call: outcome, notes and when."""

    assignment = ForeignKey(
        CallAssignment, on_delete=OnDelete.cascade, db_column_name="assignment_id"
    )
    target_id = Integer()
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    caller_id = Integer()
    state = Varchar(length=10, default="reserved")
    reserved_at = Timestamptz()
    reserved_until = Timestamptz()
    outcome = Varchar(length=20, null=True, default=None)
    notes = Text(null=True, default=None)
    phone = Varchar(length=20, null=True, default=None)
    call_back_after = Timestamptz(null=True, default=None)
    reported_at = Timestamptz(null=True, default=None)


class CallAnswer(Table, tablename="calling_answer"):
    """A survey answer given in a call (one row per chosen option or free text)."""

    call = ForeignKey(Call, on_delete=OnDelete.cascade, db_column_name="call_id")
    assignment_id = Integer()
    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    question = Varchar(length=40)
    value = Text()


class FollowUp(Stamped, Table, tablename="calling_followup"):
    """Something an organizer of the person's home unit should do after a call."""

    person = ForeignKey(Person, on_delete=OnDelete.cascade, db_column_name="person_id")
    kind = Varchar(length=20)
    message = Text(default="")
    call_id = Integer(null=True, default=None)
    assignment_id = Integer(null=True, default=None)
    status = Varchar(length=10, default="open")
    assigned_to = Integer(null=True, default=None)
    note = Text(default="")
    done_by = Integer(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
