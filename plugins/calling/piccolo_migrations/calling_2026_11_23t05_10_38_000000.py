"""Indexes and unique constraints of the calling module (after the tables exist)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.api import add_sql

ID = "2026-11-23T05:10:38:000000"
VERSION = "1.38.0"
DESCRIPTION = "calling indexes and constraints"

STATEMENTS = (
    "CREATE INDEX calling_assignment_org ON calling_assignment (org_id, id)",
    "CREATE UNIQUE INDEX calling_caller_unique ON calling_caller (assignment_id, user_id)",
    "CREATE INDEX calling_caller_user ON calling_caller (user_id)",
    "CREATE UNIQUE INDEX calling_target_unique ON calling_target (assignment_id, person_id)",
    "CREATE INDEX calling_target_queue ON calling_target (assignment_id, state, available_at, id)",
    "CREATE INDEX calling_target_person ON calling_target (person_id)",
    "CREATE UNIQUE INDEX calling_lock_person ON calling_lock (person_id)",
    "CREATE INDEX calling_lock_call ON calling_lock (call_id)",
    "CREATE INDEX calling_call_caller ON calling_call (caller_id, state)",
    "CREATE INDEX calling_call_assignment ON calling_call (assignment_id, state, reported_at)",
    "CREATE INDEX calling_call_target ON calling_call (target_id, state)",
    "CREATE INDEX calling_call_person ON calling_call (person_id)",
    "CREATE INDEX calling_answer_option ON calling_answer (assignment_id, question, value)",
    "CREATE INDEX calling_answer_person ON calling_answer (person_id)",
    "CREATE INDEX calling_answer_call ON calling_answer (call_id)",
    "CREATE INDEX calling_followup_status ON calling_followup (status, id)",
    "CREATE INDEX calling_followup_person ON calling_followup (person_id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calling", description=DESCRIPTION)
    for statement in STATEMENTS:
        add_sql(manager, statement)
    return manager
