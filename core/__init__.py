"""orga core: app factory, database, module system, auth, people and permissions.

The small public API for modules is re-exported here: the ``hookimpl`` marker and the
contract types. Routing helpers live in :mod:`core.api`.
"""

from core.hookspecs import Module, ModuleRoutes, Permission, hookimpl
from core.web.contract import CallField, CallForm, CallSection, Card, ConsolePages, MenuItem

__all__ = [
    "CallField",
    "CallForm",
    "CallSection",
    "Card",
    "ConsolePages",
    "MenuItem",
    "Module",
    "ModuleRoutes",
    "Permission",
    "hookimpl",
]
