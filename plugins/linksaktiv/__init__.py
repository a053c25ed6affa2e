"""Module ``linksaktiv``: activist network with topics, calls to action, newspaper distribution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core import ConsolePages, Module, ModuleRoutes, Permission, hookimpl

if TYPE_CHECKING:
    from core.api import Demo

NAME = "linksaktiv"


@hookimpl
def register_module() -> Module:
    """Identity of the linksaktiv module."""
    return Module(
        name=NAME,
        title="Linksaktiv network",
        description="Activists by topic, calls to action, newspaper editions and referrals.",
        version="0.2.0",
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
            description="Manage topics, calls, editions and orders",
            default_roles=("admin", "organizer"),
        ),
        Permission(
            name="linksaktiv.referrals",
            description="Receive volunteer referrals",
            default_roles=("admin",),
        ),
        # network27: volunteers (callers) enter contacts at info stands and doors
        Permission(
            name="linksaktiv.stand",
            description="Enter contacts in info-stand mode",
            default_roles=("admin", "organizer", "caller"),
        ),
    )


@hookimpl
def register_routes() -> ModuleRoutes:
    """Org routes under ``/api/orgs/{org_id}/linksaktiv``, public pages under ``/p/linksaktiv``."""
    from plugins.linksaktiv.digest_pages import digest_public_handlers
    from plugins.linksaktiv.public import public_handlers
    from plugins.linksaktiv.routes import handlers

    return ModuleRoutes(org=handlers(), public=[*public_handlers(), *digest_public_handlers()])


@hookimpl
def register_pages() -> ConsolePages:
    """The call card's handler for topics and newspaper distribution."""
    from plugins.linksaktiv.console import console_pages

    return console_pages()


@hookimpl
async def call_card_sections(person_id: int, org_id: int, locale: str) -> Sequence[Any]:
    """Topics of interest and newspaper distribution, saved during a call."""
    from plugins.linksaktiv.call_card import sections

    return await sections(person_id, org_id, locale)


@hookimpl
def register_segment_filters() -> list[type]:
    """ "Interested in topic" and "did at least N calls to action" for mailings and calling."""
    from plugins.linksaktiv.filters import ActionActivityFilter, InterestedInTopic

    return [InterestedInTopic, ActionActivityFilter]


@hookimpl
def register_jobs() -> dict[str, Any]:
    """Referral notification and reminder; the weekly digest's run and send jobs."""
    from plugins.linksaktiv.digest import JOBS as DIGEST_JOBS
    from plugins.linksaktiv.referrals import JOBS

    return {**JOBS, **DIGEST_JOBS}


@hookimpl
def register_commands(cli) -> None:
    """``orga linksaktiv …``."""
    from plugins.linksaktiv.commands import linksaktiv

    cli.add_command(linksaktiv)


@hookimpl
async def person_export(person_id: int) -> dict[str, Any] | None:
    """Sign-up, interests, calls done, orders and referrals of the person."""
    from plugins.linksaktiv.gdpr import export

    return await export(person_id)


@hookimpl
async def person_erase(person_id: int) -> None:
    """Delete every linksaktiv row about the person."""
    from plugins.linksaktiv.gdpr import erase

    await erase(person_id)


@hookimpl
async def people_merged(kept_id: int, merged_id: int) -> None:
    """Move the merged person's linksaktiv rows to the kept person (no duplicates)."""
    from plugins.linksaktiv.gdpr import merge

    await merge(kept_id, merged_id)


@hookimpl
async def person_summary(person_id: int, org_id: int) -> dict[str, Any] | None:
    """Status, topics and open orders for the person detail view."""
    from plugins.linksaktiv.gdpr import summary

    return await summary(person_id)


@hookimpl
async def template_context(person_id: int, org_id: int) -> dict[str, Any] | None:
    """``linksaktiv.calls`` (open calls matching the person) and ``linksaktiv.me_url``."""
    from plugins.linksaktiv.calls import mail_context

    return await mail_context(person_id)


@hookimpl
async def unit_cards(org_id: int, org_path: str, actor: Any, locale: str) -> Sequence[Any]:
    """Activists of the subtree and waiting referrals, each for its permission."""
    from plugins.linksaktiv.cards import cards

    return await cards(org_id, org_path, actor, locale)


@hookimpl
async def demo_content(demo: Demo) -> Sequence[str]:
    """Topics, confirmed activists, a call to action, an edition with pickup and shipping
    orders, a pending referral."""
    from plugins.linksaktiv.demo import demo_content as create

    return await create(demo)
