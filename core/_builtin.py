"""Core's own plugin: its Piccolo app and the core permissions (registered as ``core``)."""

from __future__ import annotations

from core.hookspecs import Permission, hookimpl
from core.problems import N_
from core.web.contract import ConsolePages, MenuItem

PICCOLO_APP = "core.piccolo_app"

ADMIN, ORGANIZER, CALLER, VIEWER = "admin", "organizer", "caller", "viewer"

CORE_PERMISSIONS = (
    Permission(
        name="people.view",
        description="See people and their details",
        default_roles=(ADMIN, ORGANIZER, VIEWER),
    ),
    Permission(
        name="people.edit", description="Create and change people", default_roles=(ADMIN, ORGANIZER)
    ),
    Permission(
        name="people.import",
        description="Import people from files",
        default_roles=(ADMIN, ORGANIZER),
    ),
    Permission(
        name="people.export",
        description="Export a person's data (GDPR Art. 15/20)",
        default_roles=(ADMIN,),
    ),
    Permission(
        name="people.erase", description="Erase a person (GDPR Art. 17)", default_roles=(ADMIN,)
    ),
    Permission(
        name="segments.manage",
        description="Save and change segments",
        default_roles=(ADMIN, ORGANIZER),
    ),
    Permission(
        name="orgs.manage", description="Create, rename and move org units", default_roles=(ADMIN,)
    ),
    Permission(name="members.manage", description="Assign roles to users", default_roles=(ADMIN,)),
    Permission(
        name="modules.manage",
        description="Enable and disable modules for a unit",
        default_roles=(ADMIN,),
    ),
    Permission(name="audit.view", description="Read the audit log", default_roles=(ADMIN,)),
    Permission(name="jobs.view", description="See the job queue", default_roles=(ADMIN,)),
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
def register_pages() -> ConsolePages:
    """Core's own console pages under ``/app/orgs/{org_id}``, through the modules' hook."""
    from core.people.import_pages import import_pages
    from core.people.merge_pages import merge_pages
    from core.people.pages import people_pages
    from core.web.home import start_page

    return ConsolePages(
        handlers=[start_page, *people_pages(), *import_pages(), *merge_pages()],
        menu=[
            MenuItem(label=N_("Overview"), path="", order=0),
            MenuItem(label=N_("People"), path="people", permission="people.view", order=10),
            MenuItem(
                label=N_("Import"), path="people/imports", permission="people.import", order=20
            ),
        ],
    )
