"""Module ``events``: events and actions with sign-ups, bookings, reminders and public pages."""

from __future__ import annotations

from core import Module, ModuleRoutes, Permission, hookimpl

NAME = "events"


@hookimpl
def register_module() -> Module:
    """Identity of the events module."""
    return Module(
        name=NAME,
        title="Events and actions",
        description="Info stands, canvassing, distribution days, meetings: sign-ups and bookings.",
        version="0.1.0",
    )


@hookimpl
def register_piccolo_app() -> str:
    """The events tables and migrations."""
    return "plugins.events.piccolo_app"


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """Seeing and organizing events."""
    return (
        Permission(
            name="events.view",
            description="See events and participants",
            default_roles=("admin", "organizer", "caller", "viewer"),
        ),
        Permission(
            name="events.manage",
            description="Create events, book and record attendance",
            default_roles=("admin", "organizer"),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Event routes under ``/api/orgs/{org_id}/events``."""
    from plugins.events.routes import handlers

    return ModuleRoutes(org=handlers())


@hookimpl
def register_commands(cli) -> None:
    """``orga events …``."""
    from plugins.events.commands import events

    cli.add_command(events)
