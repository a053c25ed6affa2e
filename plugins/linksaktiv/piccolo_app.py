"""The linksaktiv module's Piccolo app."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.linksaktiv.tables import (
    Activist,
    Call,
    CallDone,
    Edition,
    Interest,
    Order,
    Referral,
    ReferralStep,
    Topic,
)

APP_CONFIG = AppConfig(
    app_name="linksaktiv",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Topic,
        Activist,
        Interest,
        Call,
        CallDone,
        Edition,
        Order,
        Referral,
        ReferralStep,
    ],
    migration_dependencies=["core.piccolo_app"],
)
