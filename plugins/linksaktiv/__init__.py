"""Module ``linksaktiv``: activist network with topics, calls to action, newspaper distribution."""

from __future__ import annotations

from core import Module, ModuleRoutes, Permission, hookimpl

NAME = "linksaktiv"


@hookimpl
def register_module() -> Module:
    """Identity of the linksaktiv module."""
    return Module(
        name=NAME,
        title="Linksaktiv network",
        description="Activists by topic, calls to action, newspaper editions and referrals.",
        version="0.1.0",
    )


@hookimpl
def register_piccolo_app() -> str:
    """The linksaktiv tables and migrations."""
    return "plugins.linksaktiv.piccolo_app"


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """Seeing activists, running distribution, handling referrals."""
    return (
        Permission(
            name="linksaktiv.view",
            description="See the activists of the region",
            default_roles=("admin", "organizer"),
        ),
        Permission(
            name="linksaktiv.manage",
            description="Manage editions, orders and calls",
            default_roles=("admin", "organizer"),
        ),
        Permission(
            name="linksaktiv.referrals",
            description="Receive volunteer referrals",
            default_roles=("admin",),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Edition routes under ``/api/orgs/{org_id}/linksaktiv``."""
    from plugins.linksaktiv.routes import handlers

    return ModuleRoutes(org=handlers())


@hookimpl
def register_commands(cli) -> None:
    """``orga linksaktiv …``."""
    from plugins.linksaktiv.commands import linksaktiv

    cli.add_command(linksaktiv)
