"""Core's Piccolo app: its tables and migrations (migrated before every module)."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.audit.tables import AuditEntry
from core.auth.tables import AuthToken, LoginAttempt, PasswordReset, RoleAssignment, User
from core.jobs.tables import Job
from core.mail.tables import MailSuppression
from core.orgs.tables import OrgModule, OrgPostcode, OrgUnit
from core.people.tables import (
    ConsentEvent,
    CustomField,
    Person,
    PersonImport,
    PersonImportError,
    PersonPhone,
    PersonTag,
    Tag,
)
from core.segments.tables import SavedSegment

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        OrgUnit,
        OrgModule,
        OrgPostcode,
        User,
        RoleAssignment,
        AuthToken,
        PasswordReset,
        LoginAttempt,
        AuditEntry,
        Person,
        PersonPhone,
        PersonImport,
        PersonImportError,
        Tag,
        PersonTag,
        ConsentEvent,
        CustomField,
        Job,
        MailSuppression,
        SavedSegment,
    ],
    migration_dependencies=[],
    commands=[],
)
