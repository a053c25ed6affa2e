"""The mailings module's Piccolo app."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.mailings.tables import Mailing, Recipient, Sender

APP_CONFIG = AppConfig(
    app_name="mailings",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Mailing, Recipient, Sender],
    migration_dependencies=["core.piccolo_app"],
)
