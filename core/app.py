"""The application factory: ``create_app(settings) -> Litestar``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterable
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide

from core import db
from core.audit.services import flush_list_reads, write_list_reads
from core.auth.guards import org_guard, provide_actor, provide_org
from core.context import runtime_middleware, set_runtime
from core.docs_ui import SwaggerUI
from core.hookspecs import ModuleRoutes
from core.http import OrgaRequest, request_transaction_middleware, security_headers_middleware
from core.jobs.worker import Worker
from core.metrics import metrics_parts
from core.modules import CORE
from core.observability import configure_logging, request_id_middleware
from core.openapi import SegmentSchema, finish_document, openapi_config
from core.problems import exception_handlers, ids_in_range
from core.runtime import Runtime, build_runtime
from core.settings import Settings, private_files
from core.web.account import account_handlers
from core.web.csrf import csrf_guard
from core.web.errors import console_problem_response
from core.web.session import console_session

__all__ = ["create_app"]

VERSION = "0.1.0"


def _console_routers(runtime: Runtime) -> list[Any]:
    """The console under ``/app``: core's login and account pages, then every module's pages
    (core's own through the same hook) behind session → unit visible → module on → CSRF.
    Collects the menu entries into ``runtime.console_menu`` and the administration page's
    entries into ``runtime.console_admin``."""
    routers: list[Any] = [
        Router(
            path="/app",
            route_handlers=account_handlers(),
            guards=[csrf_guard],
            include_in_schema=False,
        )
    ]
    for name, pages in runtime.registry.call_each("register_pages"):
        core = name == CORE
        routers.append(
            Router(
                path="/app/orgs/{org_id:int}" + ("" if core else f"/{name}"),
                route_handlers=list(pages.handlers),
                guards=[console_session, org_guard(None if core else name), csrf_guard],
                include_in_schema=False,
            )
        )
        runtime.console_menu += [(name, item) for item in pages.menu]
        runtime.console_admin += [(name, item) for item in pages.admin]
    return routers


def _module_routers(name: str, routes: ModuleRoutes) -> list[Any]:
    """A module's routes under ``/api/orgs/{org_id}/<module>``, ``/p/<module>`` and ``/api``,
    tagged with its name; core's (``api`` only) carry their whole paths and tags already."""
    if name == CORE:
        return list(routes.api)
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
        # pages stay out of the API document; a handler with ``include_in_schema=True`` (JSON
        # for party websites) is in it, public (no security)
        routers.append(
            Router(
                path=f"/p/{name}",
                route_handlers=list(routes.public),
                include_in_schema=False,
                tags=[name],
            )
        )
    if routes.api:
        routers.append(Router(path="/api", route_handlers=list(routes.api), tags=[name]))
    return routers


@contextlib.asynccontextmanager
async def _inline_worker(runtime: Runtime) -> AsyncIterator[None]:
    """With ``ORGA_WORKER=inline`` a worker runs inside the server process."""
    if runtime.settings.worker != "inline":
        yield
        return
    stop = asyncio.Event()
    runtime.worker = Worker(runtime.job_handlers(), concurrency=4)
    task = asyncio.create_task(runtime.worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


def _cors(settings: Settings) -> CORSConfig | None:
    """CORS is off unless ``ORGA_CORS_ORIGINS`` lists origins. A browser client may send
    ``If-Match`` (and its own ``X-Request-ID``) and read the request id, ``Retry-After`` of a
    429 and a record's ``ETag``."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After", "ETag"],
        max_age=600,
    )


def create_app(settings: Settings | None = None, *, plugins: Iterable[Any] = ()) -> Litestar:
    """Build the ASGI app for ``settings`` (default: read from the environment).

    Args:
        settings: deployment settings.
        plugins: extra plugin objects to load besides installed packages (tests, embedding).
    """
    private_files()
    runtime = build_runtime(settings, plugins)
    configure_logging(runtime.settings)
    handlers: list[Any] = []
    for name, routes in runtime.registry.routes(segment=runtime.segment):
        handlers += _module_routers(name, routes)
    middleware: list[Any] = [
        request_id_middleware,
        runtime_middleware(runtime),
        security_headers_middleware(runtime.settings),
        request_transaction_middleware,
    ]
    metrics = metrics_parts(runtime.settings)
    if metrics is not None:
        middleware.insert(1, metrics[0])
        handlers.append(metrics[1])
    handlers += _console_routers(runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open_engine(runtime.engine, pool_size=runtime.settings.db_pool_size)
        set_runtime(runtime)
        await runtime.caches.start(runtime.engine)
        try:
            await runtime.registry.gather("startup", app=app)
            if runtime.settings.env != "test":
                # everything loaded so far lives as long as the process: keep it out of the
                # garbage collector's full passes, which otherwise stall requests for tens of
                # ms (a test process builds hundreds of apps and would keep them all)
                gc.collect()
                gc.freeze()
            async with _inline_worker(runtime):
                yield
            await runtime.registry.gather("shutdown", app=app)
        finally:
            await flush_list_reads(app)
            await runtime.mailer.transport.close()
            await runtime.caches.stop()
            await db.close_engine(runtime.engine)

    app = Litestar(
        route_handlers=handlers,
        request_class=OrgaRequest,
        lifespan=[lifespan],
        state=State({"orga": runtime}),
        dependencies={
            "actor": Provide(provide_actor),
            "org": Provide(provide_org, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(pages=console_problem_response),  # type: ignore[arg-type]
        middleware=middleware,
        request_max_body_size=runtime.settings.max_body_bytes,
        cors_config=_cors(runtime.settings),
        openapi_config=openapi_config("orga API", VERSION, SwaggerUI()),
        plugins=[SegmentSchema(runtime.segment)],
        debug=False,
        before_request=ids_in_range,
        after_response=write_list_reads,
    )
    finish_document(app)
    return app
