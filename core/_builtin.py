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
def register_pages() -> ConsolePages:
    """Core's own console pages under ``/app/orgs/{org_id}``, through the modules' hook."""
    from core.audit.pages import audit_pages
    from core.auth.member_pages import member_pages
    from core.orgs.pages import ADMIN_PERMISSIONS, admin_pages
    from core.people.import_pages import import_pages
    from core.people.merge_pages import merge_pages
    from core.people.pages import people_pages
    from core.web.home import start_page

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
