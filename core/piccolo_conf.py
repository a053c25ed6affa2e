"""Piccolo configuration: ``DB`` and ``APP_REGISTRY`` for the enabled modules.

``orga`` activates both through :func:`core.db.activate` when it builds its runtime; this
module hands them to Piccolo. When Piccolo's own CLI imports it first
(``PICCOLO_CONF=core.piccolo_conf piccolo migrations new calling --auto``), they are built on
first access from the ``ORGA_*`` settings and the installed modules, so ``piccolo migrations …``
and ``orga migrate`` see exactly the same apps.
"""

from __future__ import annotations

from typing import Any

from core import db
from core.modules import load_modules
from core.settings import load_settings


def __getattr__(name: str) -> Any:
    if name not in ("DB", "APP_REGISTRY"):
        raise AttributeError(name)
    if db.app_registry() is None:
        settings = load_settings()
        engine = db.create_engine(settings.database_url, settings.db_busy_timeout_ms)
        db.activate(engine, load_modules(settings).piccolo_apps)
    return db.engine() if name == "DB" else db.app_registry()
