"""Module ``calling``: phone banking with call assignments, a safe queue, reports, follow-ups."""

from __future__ import annotations

from core import Module, ModuleRoutes, Permission, hookimpl

NAME = "calling"


@hookimpl
def register_module() -> Module:
    """Identity of the calling module."""
    return Module(
        name=NAME,
        title="Phone banking",
        description="Call assignments, a call queue for volunteers, reports and follow-ups.",
        version="0.1.0",
    )


@hookimpl
def register_piccolo_app() -> str:
    """The calling tables and migrations."""
    return "plugins.calling.piccolo_app"


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """Managing assignments and making calls."""
    return (
        Permission(
            name="calling.manage",
            description="Create and run call assignments",
            default_roles=("admin", "organizer"),
        ),
        Permission(
            name="calling.call",
            description="Call people of an assignment",
            default_roles=("admin", "organizer", "caller"),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Assignment routes under ``/api/orgs/{org_id}/calling``."""
    from plugins.calling.routes import handlers

    return ModuleRoutes(org=handlers())


@hookimpl
def register_commands(cli) -> None:
    """``orga calling …``."""
    from plugins.calling.commands import calling

    cli.add_command(calling)
