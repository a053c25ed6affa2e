"""Core's own plugin (registered as ``core``): its Piccolo app, permissions, routes, console
pages, jobs and commands, through the same hooks as every module. It stands on top of core:
the registry loads it by its dotted path (:data:`core.modules.CORE_PLUGIN`)."""

from __future__ import annotations

from typing import Any

import click
import msgspec
from litestar.static_files import create_static_files_router

from core.audit.pages import audit_pages
from core.auth.member_pages import member_pages
from core.auth.pages import reset_page, reset_page_submit
from core.auth.routes import auth_handlers
from core.context import current_runtime
from core.health.routes import health, live, ready
from core.hookspecs import JobHandler, ModuleRoutes, Permission, hookimpl
from core.http import STATIC_DIR, console_root
from core.jobs.routes import jobs_overview
from core.mail.service import MAIL_JOB
from core.orgs.commands import orgs
from core.orgs.pages import ADMIN_PERMISSIONS, admin_pages
from core.orgs.routes import org_handlers
from core.people.commands import people
from core.people.import_pages import import_pages
from core.people.import_routes import import_router
from core.people.imports import IMPORT_JOB, run_import_job
from core.people.merge_pages import merge_pages
from core.people.pages import people_pages
from core.people.routes import people_router
from core.people.uploads import EXPIRE_JOB, expire_job
from core.problems import N_
from core.segments.routes import segment_router
from core.web.contract import ConsolePages, MenuItem
from core.web.home import start_page

PICCOLO_APP = "core.piccolo_app"

ADMIN, ORGANIZER, CALLER, VIEWER = "admin", "organizer", "caller", "viewer"

CORE_PERMISSIONS = (
    Permission(
        name="people.view",
        description=N_("See people and their details"),
        default_roles=(ADMIN, ORGANIZER, VIEWER),
    ),
    Permission(
        name="people.edit",
        description=N_("Create and change people"),
        default_roles=(ADMIN, ORGANIZER),
    ),
    Permission(
        name="people.import",
        description=N_("Import people from files"),
        default_roles=(ADMIN, ORGANIZER),
    ),
    Permission(
        name="people.export",
        description=N_("Export a person's data (GDPR Art. 15/20)"),
        default_roles=(ADMIN,),
    ),
    Permission(
        name="people.erase", description=N_("Erase a person (GDPR Art. 17)"), default_roles=(ADMIN,)
    ),
    Permission(
        name="segments.manage",
        description=N_("Save and change segments"),
        default_roles=(ADMIN, ORGANIZER),
    ),
    Permission(
        name="orgs.manage",
        description=N_("Create, rename and move org units"),
        default_roles=(ADMIN,),
    ),
    Permission(
        name="members.manage", description=N_("Assign roles to users"), default_roles=(ADMIN,)
    ),
    Permission(
        name="modules.manage",
        description=N_("Enable and disable modules for a unit"),
        default_roles=(ADMIN,),
    ),
    Permission(name="audit.view", description=N_("Read the audit log"), default_roles=(ADMIN,)),
    Permission(name="jobs.view", description=N_("See the job queue"), default_roles=(ADMIN,)),
)


@hookimpl
def register_piccolo_app() -> str:
    """Core's tables and migrations."""
    return PICCOLO_APP


@hookimpl
def register_permissions() -> tuple[Permission, ...]:
    """The permissions core defines."""
    return CORE_PERMISSIONS


@hookimpl
def register_routes(segment: type[msgspec.Struct]) -> ModuleRoutes:
    """Core's API, health, password-reset pages and static files; each handler carries its
    whole path and OpenAPI tags, so core's routes are mounted as they are."""
    static = create_static_files_router(
        path="/p/static", directories=[STATIC_DIR], include_in_schema=False
    )
    return ModuleRoutes(
        api=[
            console_root,
            health,
            live,
            ready,
            jobs_overview,
            *auth_handlers(),
            *org_handlers(),
            import_router(),
            people_router(),
            reset_page,
            reset_page_submit,
            static,
            segment_router(segment),
        ]
    )


async def deliver_mail(payload: dict[str, Any]) -> None:
    """Job handler: send one queued mail with the current runtime's mailer."""
    await current_runtime().mailer.deliver(payload)


@hookimpl
def register_jobs() -> dict[str, JobHandler]:
    """Core's jobs: mail delivery, people imports and the expiry of unconfirmed uploads."""
    return {MAIL_JOB: deliver_mail, IMPORT_JOB: run_import_job, EXPIRE_JOB: expire_job}


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Core's command groups ``orga people`` and ``orga orgs``."""
    cli.add_command(people)
    cli.add_command(orgs)


@hookimpl
def register_pages() -> ConsolePages:
    """Core's own console pages under ``/app/orgs/{org_id}``, through the modules' hook."""
    return ConsolePages(
        handlers=[
            start_page,
            *people_pages(),
            *import_pages(),
            *merge_pages(),
            *admin_pages(),
            *member_pages(),
            *audit_pages(),
        ],
        menu=[
            MenuItem(label=N_("Overview"), path="", order=0),
            MenuItem(label=N_("People"), path="people", permission="people.view", order=10),
            MenuItem(
                label=N_("Import"), path="people/imports", permission="people.import", order=20
            ),
            MenuItem(
                label=N_("Administration"), path="admin", permission=ADMIN_PERMISSIONS, order=80
            ),
            MenuItem(label=N_("Audit log"), path="audit", permission="audit.view", order=90),
        ],
        admin=ADMIN_PARTS,
    )


ADMIN_PARTS = (
    MenuItem(
        label=N_("Unit settings"),
        path="admin/unit",
        permission="orgs.manage",
        description=N_("Name, kind and office; move the unit."),
        order=10,
    ),
    MenuItem(
        label=N_("Subunits"),
        path="admin/units",
        permission="orgs.manage",
        description=N_("The units below this one; add one."),
        order=20,
    ),
    MenuItem(
        label=N_("Postal codes"),
        path="admin/postcodes",
        permission="orgs.manage",
        description=N_("The postal codes this unit is responsible for."),
        order=30,
    ),
    MenuItem(
        label=N_("Users and roles"),
        path="admin/members",
        permission="members.manage",
        description=N_("Who works here in which role; invite someone by e-mail."),
        order=40,
    ),
    MenuItem(
        label=N_("Modules"),
        path="admin/modules",
        permission="modules.manage",
        description=N_("Which modules are on for this unit and the units below."),
        order=50,
    ),
    MenuItem(
        label=N_("API tokens"),
        path="admin/tokens",
        description=N_("Tokens for other systems to use the API."),
        order=90,
    ),
    MenuItem(
        label=N_("Audit log"),
        path="audit",
        permission="audit.view",
        description=N_("Who did what, and when."),
        order=95,
    ),
)
"""Core's entries on the unit's administration page; modules add theirs (order 60 to 80)."""
