"""The application factory: ``create_app(settings) -> Litestar``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from piccolo.engine.base import Engine

from core import db
from core.auth.actor import role_permissions
from core.auth.guards import org_guard, provide_actor, provide_org
from core.hookspecs import ModuleRoutes
from core.http import core_route_handlers, security_headers_middleware
from core.modules import ModuleRegistry, load_modules
from core.problems import exception_handlers
from core.settings import Settings, load_settings

__all__ = ["Runtime", "create_app"]

VERSION = "0.1.0"


@dataclass
class Runtime:
    """What a running orga holds: settings, modules, role table and the database engine."""

    settings: Settings
    registry: ModuleRegistry
    engine: Engine
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)


def build_runtime(settings: Settings | None = None, plugins: Iterable[Any] = ()) -> Runtime:
    """Load modules, create the engine and bind every enabled module's tables to it."""
    settings = settings or load_settings()
    registry = load_modules(settings, extra=plugins)
    engine = db.create_engine(settings.database_url)
    db.activate(engine, registry.piccolo_apps)
    return Runtime(
        settings=settings,
        registry=registry,
        engine=engine,
        roles=role_permissions(registry.permissions),
    )


def _module_routers(name: str, routes: ModuleRoutes) -> list[Any]:
    routers: list[Any] = []
    if routes.org:
        routers.append(
            Router(
                path=f"/api/orgs/{{org_id:int}}/{name}",
                route_handlers=list(routes.org),
                guards=[org_guard(name)],
                tags=[name],
            )
        )
    if routes.public:
        routers.append(
            Router(path=f"/p/{name}", route_handlers=list(routes.public), include_in_schema=False)
        )
    if routes.api:
        routers.append(Router(path="/api", route_handlers=list(routes.api), tags=[name]))
    return routers


def _cors(settings: Settings) -> CORSConfig | None:
    """CORS is off unless ``ORGA_CORS_ORIGINS`` lists origins."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )


def create_app(settings: Settings | None = None, *, plugins: Iterable[Any] = ()) -> Litestar:
    """Build the ASGI app for ``settings`` (default: read from the environment).

    Args:
        settings: deployment settings.
        plugins: extra plugin objects to load besides installed packages (tests, embedding).
    """
    runtime = build_runtime(settings, plugins)
    handlers: list[Any] = list(core_route_handlers())
    for name, routes in runtime.registry.routes():
        handlers += _module_routers(name, routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open_engine(runtime.engine)
        try:
            await runtime.registry.gather("startup", app=app)
            yield
            await runtime.registry.gather("shutdown", app=app)
        finally:
            await db.close_engine(runtime.engine)

    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=State({"orga": runtime}),
        dependencies={"actor": Provide(provide_actor), "org": Provide(provide_org)},
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        middleware=[security_headers_middleware(runtime.settings)],
        request_max_body_size=runtime.settings.max_body_bytes,
        cors_config=_cors(runtime.settings),
        openapi_config=OpenAPIConfig(
            title="orga API",
            version=VERSION,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        debug=False,
    )
