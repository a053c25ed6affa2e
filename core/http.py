"""Core's HTTP surface: the list of core route handlers, the request class, the
security-headers middleware and the middleware that makes every request's writes one
transaction."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, get
from litestar.exceptions import SerializationException
from litestar.response import Redirect
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from core import db
from core.problems import N_, PROBLEM_MEDIA_TYPE, FieldError, Problem, check_storable
from core.settings import Settings

__all__ = [
    "CALENDAR",
    "DOCS_CSP",
    "HTML",
    "METRICS",
    "STATIC_DIR",
    "OrgaRequest",
    "console_root",
    "request_transaction_middleware",
    "security_headers_middleware",
]

log = logging.getLogger("orga.http")

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
# The API documentation (/schema, core.docs_ui): Swagger UI's files from our own origin, no
# inline script or style; "Try it out" may only call this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_DOCS_CSP = (b"content-security-policy", DOCS_CSP.encode())
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


def request_transaction_middleware(app: ASGIApp) -> ASGIApp:
    """Middleware: a request's writes are one transaction (``core._unit``), begun by its first
    write, committed just before a 2xx/3xx answer starts and rolled back for a 4xx/5xx answer or
    an exception, so a refused request changes nothing. A handler opts out with
    ``opt={db.REQUEST_TRANSACTION: False}``. When the COMMIT itself fails the client gets a 500
    instead of the answer; when a write held for the end (an audited read's row) raises a
    problem (503 ``database-busy``), that problem."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != "http" or (
            handler is not None and handler.opt.get(db.REQUEST_TRANSACTION) is False
        ):
            await app(scope, receive, send)
            return
        with db.unit_of_work(db.engine()) as unit:
            replaced = False

            async def send_after_commit(message: Message) -> None:
                nonlocal replaced
                if replaced:  # the rest of an answer that was not committed
                    return
                if message["type"] == "http.response.start" and not unit.ended:
                    try:
                        await unit.end(commit=message["status"] < 400)
                    except Problem as problem:  # a write held for the end found no lock
                        replaced = True
                        await _send_problem(send, problem)
                        return
                    except Exception:
                        log.exception("commit failed on %s %s", scope["method"], scope["path"])
                        replaced = True
                        await _send_problem(send, Problem(500, detail="The error was logged."))
                        return
                await send(message)

            try:
                await app(scope, receive, send_after_commit)
            finally:
                if not unit.ended:
                    await asyncio.shield(unit.end(commit=False))

    return middleware


async def _send_problem(send: Send, problem: Problem) -> None:
    body = msgspec.json.encode(problem.body())
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in problem.headers.items()),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
