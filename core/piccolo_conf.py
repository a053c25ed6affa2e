"""Piccolo configuration: ``DB`` and ``APP_REGISTRY`` for the enabled modules.

``orga`` sets both through :func:`configure` when it starts. When Piccolo's own CLI imports this
module (``PICCOLO_CONF=core.piccolo_conf piccolo migrations new calling --auto``), they are
built on first access from the ``ORGA_*`` settings and the installed modules, so
``piccolo migrations …`` and ``orga migrate`` see exactly the same apps.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

DB: Engine
APP_REGISTRY: AppRegistry


def configure(db: Engine, apps: list[str]) -> None:
    """Set the engine and the Piccolo apps (dotted ``piccolo_app`` module paths)."""
    globals()["DB"] = db
    globals()["APP_REGISTRY"] = AppRegistry(apps=apps)


def __getattr__(name: str) -> Any:
    if name not in ("DB", "APP_REGISTRY"):
        raise AttributeError(name)
    from core.db import create_engine
    from core.modules import load_modules
    from core.settings import load_settings

    settings = load_settings()
    registry = load_modules(settings)
    configure(
        create_engine(settings.database_url, settings.db_busy_timeout_ms), registry.piccolo_apps
    )
    return globals()[name]
