"""Core's HTTP surface: the list of core route handlers, the request class and the
security-headers middleware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.exceptions import SerializationException
from litestar.response import Redirect
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from core.problems import N_, FieldError, Problem, check_storable
from core.settings import Settings

__all__ = [
    "CALENDAR",
    "HTML",
    "METRICS",
    "OrgaRequest",
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
_CONSOLE_CSP = (
    b"content-security-policy",
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
)
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class OrgaRequest(Request):
    """The app's request class: a JSON body that is not JSON, or is nested deeper than the
    decoder's recursion limit (``[[[[…``, legitimately never more than a few levels), is a 400
    naming ``body``, not the decoder's exception; one holding a value no database can store
    (:func:`core.problems.check_storable`) is a 422 naming each such field."""

    async def json(self) -> Any:
        """The decoded JSON body, its values storable."""
        try:
            body = await super().json()
        except RecursionError:
            message = "the JSON is nested too deeply"
            raise Problem(
                400, "bad-request", message, errors=[FieldError("body", message)]
            ) from None
        except SerializationException as exc:
            raise Problem(
                400,
                "bad-request",
                N_("The request body is not valid JSON."),
                errors=[FieldError("body", str(exc))],
            ) from None
        check_storable(body)
        return body


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
    ]


@get("/", include_in_schema=False)
async def console_root() -> Redirect:
    """A browser at ``/`` lands in the console (which asks for a login first)."""
    return Redirect("/app", status_code=303)


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
            elif path.startswith("/app") or path == "/":
                extra.append(_CONSOLE_CSP)
            elif not path.startswith("/schema"):
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
