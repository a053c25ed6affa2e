"""The running orga: what it holds (:class:`Runtime`), how it is built, and ``run_async``.

``create_app`` builds one per app, the ``orga`` command one per command (``run_async``). Code
without a request at hand reaches the current one through :func:`core.context.current_runtime`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from piccolo.engine.base import Engine

from core import db
from core.auth.roles import Roles, build_roles
from core.cache import Caches
from core.context import set_runtime
from core.hookspecs import JobHandler
from core.jobs.worker import Worker
from core.mail.service import Mailer
from core.mail.transport import transport_from_settings
from core.modules import ModuleError, ModuleRegistry, load_modules
from core.segments.types import segment_type
from core.settings import Settings, load_settings
from core.templating import Templates
from core.web.contract import MenuItem

__all__ = ["Runtime", "build_runtime", "run_async"]

T = TypeVar("T")


@dataclass
class Runtime:
    """What a running orga holds: settings, modules, roles, database, templates and mail."""

    settings: Settings
    registry: ModuleRegistry
    engine: Engine
    templates: Templates
    mailer: Mailer
    segment: type[msgspec.Struct]
    roles: Roles
    worker: Worker | None = None
    caches: Caches = field(default_factory=Caches)
    console_menu: list[tuple[str, MenuItem]] = field(default_factory=list)
    console_admin: list[tuple[str, MenuItem]] = field(default_factory=list)

    def job_handlers(self) -> dict[str, JobHandler]:
        """Every plugin's ``register_jobs`` (core's first), each run with this runtime current."""
        handlers: dict[str, JobHandler] = {}
        for module, jobs in self.registry.call_each("register_jobs"):
            for kind, handler in jobs.items():
                if kind in handlers:
                    raise ModuleError(f"module '{module}': job kind '{kind}' is already taken")
                handlers[kind] = self._with_runtime(handler)
        return handlers

    def _with_runtime(self, handler: JobHandler) -> JobHandler:
        """Run a job handler with this runtime current (``core.api.current_runtime``)."""

        async def run(payload: dict[str, Any]) -> None:
            set_runtime(self)
            await handler(payload)

        return run


def build_runtime(settings: Settings | None = None, plugins: Iterable[Any] = ()) -> Runtime:
    """Load modules, create the engine and bind every enabled module's tables to it."""
    settings = settings or load_settings()
    registry = load_modules(settings, extra=plugins)
    roles = build_roles(settings.roles, registry.permissions)  # before anything starts
    engine = db.create_engine(settings.database_url, settings.db_busy_timeout_ms)
    db.activate(engine, registry.piccolo_apps)
    templates = Templates(
        settings.templates_dir,
        registry.template_dirs,
        auto_reload=settings.env == "development",
        timezone=settings.timezone,
    )
    transport = transport_from_settings(
        settings.smtp_url, settings.mail_dir, settings.smtp_pool_size, settings.smtp_rate_per_minute
    )
    return Runtime(
        settings=settings,
        registry=registry,
        engine=engine,
        templates=templates,
        mailer=Mailer(settings, templates, transport),
        segment=_segment_type(registry),
        roles=roles,
        caches=Caches(enabled=settings.cache),
    )


def _segment_type(registry: ModuleRegistry) -> type[msgspec.Struct]:
    """Core's segment filters plus every module's ``register_segment_filters``."""
    module_filters = [
        f for _, filters in registry.call_each("register_segment_filters") for f in filters
    ]
    try:
        return segment_type(module_filters)
    except ValueError as exc:
        raise ModuleError(str(exc)) from exc


def run_async(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Build the runtime, open the database, run ``work(runtime)`` and close again (for
    commands: core's and every module's ``register_commands``)."""
    runtime = build_runtime()

    async def wrapper() -> T:
        set_runtime(runtime)  # current for the command, as for a request or a job
        await db.open_engine(runtime.engine, pool_size=4)
        try:
            return await work(runtime)
        finally:
            await db.close_engine(runtime.engine)

    return asyncio.run(wrapper())
