"""Module ``mailings``: action mailings to segments with consent and one-click unsubscribe."""

from __future__ import annotations

from core import Module, ModuleRoutes, Permission, hookimpl

NAME = "mailings"


@hookimpl
def register_module() -> Module:
    """Identity of the mailings module."""
    return Module(
        name=NAME,
        title="Action mailings",
        description="Calls to action by e-mail to segments, with consent and unsubscribe.",
        version="0.1.0",
    )


@hookimpl
def register_piccolo_app() -> str:
    """The mailings tables and migrations."""
    return "plugins.mailings.piccolo_app"


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """Writing and sending mailings."""
    return (
        Permission(
            name="mailings.edit",
            description="Write mailings and preview them",
            default_roles=("admin", "organizer"),
        ),
        Permission(name="mailings.send", description="Send mailings", default_roles=("admin",)),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Mailing routes under ``/api/orgs/{org_id}/mailings``."""
    from plugins.mailings.routes import handlers

    return ModuleRoutes(org=handlers())


@hookimpl
def register_commands(cli) -> None:
    """``orga mailings …``."""
    from plugins.mailings.commands import mailings

    cli.add_command(mailings)
