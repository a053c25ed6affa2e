"""The plugin contract: every hook a module may implement.

Build-time hooks are called once per module inside ``create_app`` (and by the CLI) and return
plain values. Runtime hooks are ``async def`` in the implementations; core awaits each result
one by one inside the current transaction. No hook uses ``firstresult``. Every hook here has a
reference entry in ``docs/plugins.md`` (a test enforces it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
import pluggy

from core.web.contract import CallSection, Card, ConsolePages

__all__ = [
    "PROJECT",
    "JobHandler",
    "Module",
    "ModuleRoutes",
    "OrgaDeprecationWarning",
    "OrgaSpec",
    "Permission",
    "deprecated_hookspec",
    "hookimpl",
    "hookspec",
]

PROJECT = "orga"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class OrgaDeprecationWarning(DeprecationWarning):
    """Warned when a module implements a hook that is going away."""


def deprecated_hookspec(reason: str) -> Any:
    """Mark a hook spec as deprecated: implementing it warns (pluggy's ``warn_on_impl``).

    Args:
        reason: what replaces the hook and when it will be removed.
    """
    return hookspec(warn_on_impl=OrgaDeprecationWarning(reason))


class Module(msgspec.Struct, frozen=True, kw_only=True):
    """Identity of a module. ``name`` is the URL segment and the key in ``ORGA_MODULES``."""

    name: str
    title: str
    description: str = ""
    version: str = "0"


class Permission(msgspec.Struct, frozen=True, kw_only=True):
    """A permission such as ``calling.call``, granted by default to ``default_roles``."""

    name: str
    description: str
    default_roles: tuple[str, ...] = ()


class ModuleRoutes(msgspec.Struct, frozen=True, kw_only=True):
    """Route handlers a module contributes.

    Attributes:
        org: mounted under ``/api/orgs/{org_id}/<module>`` behind the guards
            authenticated → org unit visible → module enabled → permission.
        public: mounted under ``/p/<module>`` without authentication (public pages).
        api: mounted under ``/api`` as they are, e.g. ``/api/me/<module>``; each handler
            authorizes itself.
    """

    org: Sequence[Any] = ()
    public: Sequence[Any] = ()
    api: Sequence[Any] = ()


JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


class OrgaSpec:
    """Hook specifications. Implement them with ``@core.hookimpl`` in a module's ``__init__``."""

    # -- build time ----------------------------------------------------------------------------

    @hookspec
    def register_module(self) -> Module:
        """Return the module's identity. Required for every module."""

    @hookspec
    def register_piccolo_app(self) -> str:
        """Return the dotted path of the module's ``piccolo_app`` (tables and migrations)."""

    @hookspec
    def register_routes(self, segment: type[msgspec.Struct]) -> ModuleRoutes:
        """Return the module's route handlers (org-scoped, public, plain API).

        ``segment`` (take it only if needed) is the running deployment's segment type, core's
        and every module's filters, for a handler whose body is typed with it; most bodies
        hold :data:`core.api.SegmentDefinition` and read it with ``parse_segment`` instead.
        """

    @hookspec
    def register_permissions(self) -> Sequence[Permission]:
        """Return the permissions the module defines and which roles get them by default."""

    @hookspec
    def register_segment_filters(self) -> Sequence[type[msgspec.Struct]]:
        """Return segment filter Structs (tagged-union members keyed by ``type``)."""

    @hookspec
    def register_jobs(self) -> dict[str, JobHandler]:
        """Return ``{job_kind: async handler(payload)}`` for the durable job worker."""

    @hookspec
    def register_commands(self, cli: Any) -> None:
        """Add click commands or groups to the ``orga`` command group ``cli``."""

    @hookspec
    def register_pages(self) -> ConsolePages:
        """Return the module's console pages and menu entries (:class:`core.web.ConsolePages`).

        Handlers are mounted under ``/app/orgs/{org_id}/<module>`` behind the console's
        guards (session → unit visible → module enabled → CSRF); a page handler parses the
        form, calls the same service as the JSON route and renders
        ``<module>/<page>.html.jinja`` with :func:`core.web.render_console`.
        """

    @hookspec
    def register_template_dirs(self) -> Sequence[str]:
        """Return extra template folders (the module's ``templates/`` is found by default)."""

    # -- runtime (async) -----------------------------------------------------------------------

    @hookspec
    async def person_export(self, person_id: int) -> dict[str, Any] | None:
        """Return the module's data about a person for the GDPR access export."""

    @hookspec
    async def person_erase(self, person_id: int) -> None:
        """Delete or anonymize the module's data about a person (same transaction as core)."""

    @hookspec
    async def people_merged(self, kept_id: int, merged_id: int) -> None:
        """Move the module's rows from ``merged_id`` to ``kept_id``."""

    @hookspec
    async def person_summary(self, person_id: int, org_id: int) -> dict[str, Any] | None:
        """Return a short section for the person detail view, or ``None``."""

    @hookspec
    async def template_context(self, person_id: int, org_id: int) -> dict[str, Any] | None:
        """Return extra variables for mail templates (e.g. upcoming local events)."""

    @hookspec
    async def unit_cards(
        self, org_id: int, org_path: str, actor: Any, locale: str
    ) -> Sequence[Card] | None:
        """Return cards for the start page of unit ``org_id`` as ``actor`` (a
        :class:`core.api.Actor`) may see them: figures, and what needs attention, with texts
        in ``locale`` (``core.api.gettext``). Called only where the module is on for the
        unit; each card checks its own permission (``actor.can(…, org_path)``) and keeps its
        queries cheap (indexed; ``core.api.cached`` for counts over a large subtree)."""

    @hookspec
    async def call_card_sections(
        self,
        person_id: int,
        org_id: int,
        org_path: str,
        assignment_org_id: int,
        actor: Any,
        locale: str,
    ) -> Sequence[CallSection] | None:
        """Return sections for the call screen while ``actor`` calls ``person_id`` in an
        assignment of unit ``assignment_org_id``, through the console of unit ``org_id`` (at
        ``org_path``), with texts in ``locale``. Called only for modules that are on there.
        Each :class:`core.CallForm` posts to the module's own console handler, which checks
        the posted ``grant`` with :func:`core.api.read_call_grant` (the caller may act on this
        person now, even outside their own unit), calls the module's service and answers
        ``see_other`` to the posted ``return_to`` (:func:`core.api.call_card_return`). A module
        checks its own permission (``actor.can(…, org_path)``) and keeps its queries cheap:
        this runs on every call card."""

    @hookspec
    async def demo_content(self, demo: Any) -> Sequence[str] | None:
        """Create what a visitor of ``orga demo`` needs to see the module in use, from the
        demo's units and people (:class:`core.api.Demo`); return lines telling what was made
        (printed by ``orga demo``). Users made with ``demo.add_user`` get printed passwords."""

    @hookspec
    async def startup(self, app: Any) -> None:
        """Called once when the app starts, after the database is open."""

    @hookspec
    async def shutdown(self, app: Any) -> None:
        """Called once when the app stops, before the database closes."""
