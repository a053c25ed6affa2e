"""Core's HTTP surface: the list of core route handlers and the security-headers middleware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from core.settings import Settings

__all__ = [
    "CALENDAR",
    "DOCS_CSP",
    "HTML",
    "METRICS",
    "core_route_handlers",
    "security_headers_middleware",
]

# The one place media types are named. Litestar appends "; charset=utf-8" to every text/*
# type itself, so these carry no charset (a second one breaks strict parsers such as Go's).
HTML = "text/html"
CALENDAR = "text/calendar"
METRICS = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")  # Prometheus' text format

STATIC_DIR = Path(__file__).parent / "static"

_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_PAGE_CSP = (
    b"content-security-policy",
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
    b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
)
# The API documentation (/schema, core.docs_ui): Swagger UI's files from our own origin, no
# inline script or style; "Try it out" may only call this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_DOCS_CSP = (b"content-security-policy", DOCS_CSP.encode())
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


def core_route_handlers() -> list[Any]:
    """Every route handler core itself serves."""
    from litestar.static_files import create_static_files_router

    from core.auth.pages import reset_page, reset_page_submit
    from core.auth.routes import auth_handlers
    from core.health.routes import health, live, ready
    from core.jobs.routes import jobs_overview
    from core.orgs.routes import org_handlers
    from core.people.import_routes import import_router
    from core.people.routes import people_router

    static = create_static_files_router(
        path="/p/static", directories=[STATIC_DIR], include_in_schema=False
    )
    return [
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
    ]


def security_headers_middleware(settings: Settings):
    """Middleware factory adding no-sniff, frame deny, CSP (strict on pages) and HSTS."""
    https = settings.public_url.startswith("https://")

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            path: str = scope["path"]
            extra = list(_BASE_HEADERS)
            if path.startswith("/p/"):
                extra.append(_PAGE_CSP)
            elif path == "/schema" or path.startswith("/schema/"):
                extra.append(_DOCS_CSP)
            else:
                extra.append(_API_CSP)
            if https or scope.get("scheme") == "https":
                extra.append(_HSTS)

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = list(message.get("headers", [])) + extra
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
