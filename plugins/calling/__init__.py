"""Module ``calling``: phone banking with call assignments, a safe queue, reports, follow-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core import ConsolePages, Module, ModuleRoutes, Permission, hookimpl

if TYPE_CHECKING:
    from core.api import Demo

NAME = "calling"


@hookimpl
def register_module() -> Module:
    """Identity of the calling module."""
    return Module(
        name=NAME,
        title="Phone banking",
        description="Call assignments, a call queue for volunteers, reports and follow-ups.",
        version="0.2.0",
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
            description="Create and run call assignments, see their statistics and follow-ups",
            default_roles=("admin", "organizer"),
        ),
        Permission(
            name="calling.call",
            description="Call people of an assignment one reservation at a time",
            default_roles=("admin", "organizer", "caller"),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Assignment, queue, report and follow-up routes, and ``/api/me/calling``."""
    from plugins.calling.routes import handlers, me_handlers

    return ModuleRoutes(org=handlers(), api=me_handlers())


@hookimpl
def register_pages() -> ConsolePages:
    """The console pages under ``/app/orgs/{org_id}/calling``: the organizer's assignments and
    callers, the volunteer's calls and call screen, an assignment's progress, results and
    call log, and the follow-ups inbox (each part in its own ``*_pages.py``)."""
    from plugins.calling.caller_pages import caller_menu, caller_pages
    from plugins.calling.followup_pages import FOLLOWUP_MENU, followup_pages
    from plugins.calling.organizer_pages import ORGANIZER_MENU, organizer_pages
    from plugins.calling.progress_pages import progress_pages

    return ConsolePages(
        handlers=[*organizer_pages(), *caller_pages(), *progress_pages(), *followup_pages()],
        menu=[*ORGANIZER_MENU, *caller_menu(), *FOLLOWUP_MENU],
    )


@hookimpl
def register_segment_filters() -> tuple[type, ...]:
    """Called / reached / outcome / survey answer / most active callers / held back."""
    from plugins.calling.filters import (
        AnsweredFilter,
        CalledFilter,
        CallerActivityFilter,
        OutcomeFilter,
        QueueBlockedFilter,
        ReachedFilter,
    )

    return (
        CalledFilter,
        ReachedFilter,
        OutcomeFilter,
        AnsweredFilter,
        CallerActivityFilter,
        QueueBlockedFilter,
    )


@hookimpl
def register_commands(cli) -> None:
    """``orga calling …``."""
    from plugins.calling.commands import calling

    cli.add_command(calling)


@hookimpl
async def person_export(person_id: int) -> dict[str, Any] | None:
    """Calls, notes, survey answers, follow-ups and queue entries about the person."""
    from plugins.calling.gdpr import export_person

    return await export_person(person_id)


@hookimpl
async def person_erase(person_id: int) -> None:
    """Delete the person's calls, answers, follow-ups and queue entries."""
    from plugins.calling.gdpr import erase_person

    await erase_person(person_id)


@hookimpl
async def people_merged(kept_id: int, merged_id: int) -> None:
    """Move calls, answers, follow-ups and queue entries to the kept person."""
    from plugins.calling.gdpr import merge_people

    await merge_people(kept_id, merged_id)


@hookimpl
async def person_summary(person_id: int, org_id: int) -> dict[str, Any] | None:
    """The person's last calls."""
    from plugins.calling.gdpr import summary

    return await summary(person_id)


@hookimpl
async def unit_cards(org_id: int, org_path: str, actor: Any, locale: str) -> Sequence[Any]:
    """Open follow-ups and the assignments in progress (``calling.manage``)."""
    from plugins.calling.cards import cards

    return await cards(org_id, org_path, actor, locale)


@hookimpl
async def demo_content(demo: Demo) -> Sequence[str]:
    """An open call assignment with a survey and three callers on its roster."""
    from plugins.calling.demo import demo_content as create

    return await create(demo)
