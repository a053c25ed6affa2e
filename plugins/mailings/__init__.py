"""Module ``mailings``: action mailings to segments with consent and one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core import ConsolePages, Module, ModuleRoutes, Permission, hookimpl

if TYPE_CHECKING:
    from core.api import Demo

NAME = "mailings"


@hookimpl
def register_module() -> Module:
    """Identity of the mailings module."""
    return Module(
        name=NAME,
        title="Action mailings",
        description="Calls to action by e-mail to segments, with consent and unsubscribe.",
        version="0.2.0",
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
            description="Write mailings, preview them and send tests",
            default_roles=("admin", "organizer"),
        ),
        Permission(
            name="mailings.send",
            description="Send, pause, resume and cancel mailings",
            default_roles=("admin",),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Mailing routes under ``/api/orgs/{org_id}/mailings``, public pages under ``/p/mailings``."""
    from plugins.mailings.pages import public_handlers
    from plugins.mailings.routes import handlers

    return ModuleRoutes(org=handlers(), public=public_handlers())


@hookimpl
def register_pages() -> ConsolePages:
    """The console's sender-identity page, listed on the unit's administration page."""
    from plugins.mailings.console import console_pages

    return console_pages()


@hookimpl
def register_jobs() -> dict[str, Any]:
    """The per-recipient send job and the scheduled start."""
    from plugins.mailings.delivery import run_send_job, run_start_job
    from plugins.mailings.sending import SEND_JOB, START_JOB

    return {SEND_JOB: run_send_job, START_JOB: run_start_job}


@hookimpl
def register_segment_filters() -> list[type]:
    """Received mailing X, clicked in X, unsubscribed through X."""
    from plugins.mailings.filters import FILTERS

    return list(FILTERS)


@hookimpl
def register_commands(cli) -> None:
    """``orga mailings …``."""
    from plugins.mailings.commands import mailings

    cli.add_command(mailings)


@hookimpl
async def person_export(person_id: int) -> dict[str, Any] | None:
    """The mailings a person was sent, with delivery, opens, clicks and unsubscribes."""
    from plugins.mailings.people import export_person

    return await export_person(person_id)


@hookimpl
async def person_erase(person_id: int) -> None:
    """Detach the person from recipient rows (counts stay, no personal data)."""
    from plugins.mailings.people import erase_person

    await erase_person(person_id)


@hookimpl
async def people_merged(kept_id: int, merged_id: int) -> None:
    """Move recipient rows to the kept person (one row per mailing)."""
    from plugins.mailings.people import merge_people

    await merge_people(kept_id, merged_id)


@hookimpl
async def demo_content(demo: Demo) -> Sequence[str]:
    """A sender identity and a mailing draft to everyone who agreed to e-mail."""
    from plugins.mailings.demo import demo_content as create

    return await create(demo)
