"""The events module's Piccolo app."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.events.tables import Event, Participation, Shift

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Event, Shift, Participation],
    migration_dependencies=["core.piccolo_app"],
)
