"""The calling module's Piccolo app."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.calling.tables import (
    Call,
    CallAnswer,
    CallAssignment,
    Caller,
    CallLock,
    CallTarget,
    FollowUp,
)

APP_CONFIG = AppConfig(
    app_name="calling",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[CallAssignment, Caller, CallTarget, CallLock, Call, CallAnswer, FollowUp],
    migration_dependencies=["core.piccolo_app"],
)
