"""Module ``events``: events and actions with sign-ups, bookings, reminders and public pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core import ConsolePages, Module, ModuleRoutes, Permission, hookimpl

if TYPE_CHECKING:
    from core.api import Demo

NAME = "events"


@hookimpl
def register_module() -> Module:
    """Identity of the events module."""
    return Module(
        name=NAME,
        title="Events and actions",
        description="Info stands, canvassing, distribution days, meetings: sign-ups and bookings.",
        version="0.2.0",
    )


@hookimpl
def register_piccolo_app() -> str:
    """The events tables and migrations."""
    return "plugins.events.piccolo_app"


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """Seeing events, signing people up (callers too) and organizing events."""
    return (
        Permission(
            name="events.view",
            description="See events and participants",
            default_roles=("admin", "organizer", "caller", "viewer"),
        ),
        Permission(
            name="events.signup",
            description="Sign people up for events (e.g. during a call)",
            default_roles=("admin", "organizer", "caller"),
        ),
        Permission(
            name="events.manage",
            description="Create events, book and record attendance",
            default_roles=("admin", "organizer"),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Event routes under ``/api/orgs/{org_id}/events``, public pages under ``/p/events``."""
    from plugins.events.public import public_handlers
    from plugins.events.routes import handlers
    from plugins.events.shift_routes import shift_handlers  # shifts26

    return ModuleRoutes(org=[*handlers(), *shift_handlers()], public=public_handlers())


@hookimpl
def register_pages() -> ConsolePages:
    """The call card's sign-up and the event pages under ``/app/orgs/{org_id}/events``."""
    from plugins.events.console import console_pages

    return console_pages()


@hookimpl
def register_segment_filters() -> list[type]:
    """ "People who signed up / were booked / attended / did not show" for events, and "attended
    at least N events in a period"."""
    from plugins.events.filters import EventActivityFilter, EventParticipationFilter

    return [EventParticipationFilter, EventActivityFilter]


@hookimpl
def register_jobs() -> dict[str, Any]:
    """Reminder and notice jobs (each fans out into one mail per participant)."""
    from plugins.events.notify import JOBS

    return dict(JOBS)


@hookimpl
def register_commands(cli) -> None:
    """``orga events …``."""
    from plugins.events.commands import events

    cli.add_command(events)


@hookimpl
async def person_export(person_id: int) -> dict[str, Any] | None:
    """The person's participations and the events they are the contact for."""
    from plugins.events.people import export_person

    return await export_person(person_id)


@hookimpl
async def person_erase(person_id: int) -> None:
    """Delete the person's participations; events they were contact for lose the contact."""
    from plugins.events.people import erase_person

    await erase_person(person_id)


@hookimpl
async def people_merged(kept_id: int, merged_id: int) -> None:
    """Move participations to the kept person (one per event, the stronger one wins)."""
    from plugins.events.people import merge_people

    await merge_people(kept_id, merged_id)


@hookimpl
async def person_summary(person_id: int, org_id: int) -> dict[str, Any] | None:
    """The person's next and last events at this unit's subtree."""
    from plugins.events.people import summary

    return await summary(person_id, org_id)


@hookimpl
async def template_context(person_id: int, org_id: int) -> dict[str, Any] | None:
    """``upcoming_events``: public events near the person (home unit, above or below it)."""
    from plugins.events.people import upcoming_near

    return await upcoming_near(person_id, org_id)


@hookimpl
async def call_card_sections(
    person_id: int, org_id: int, org_path: str, assignment_org_id: int, actor: Any, locale: str
) -> Sequence[Any]:
    """Events the person attended; sign them up for upcoming events of their home unit and
    of the assignment's unit during the call."""
    from plugins.events.call_card import sections

    return await sections(person_id, org_id, org_path, assignment_org_id, actor, locale)


@hookimpl
async def demo_content(demo: Demo) -> Sequence[str]:
    """Upcoming public events in several districts, with sign-ups."""
    from plugins.events.demo import demo_content as create

    return await create(demo)
