"""One error format: RFC 9457 problem details (``application/problem+json``).

Raise :class:`Problem` (or one of the helpers) anywhere; the handlers registered by
``create_app`` turn it, Litestar's own HTTP errors, validation errors and unexpected exceptions
into a problem response with a stable ``type`` (``urn:orga:problem:<slug>``), a human ``title``
and ``detail``, and for validation errors the offending ``errors[].field``. Stack traces never
reach the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.i18n import best_locale, gettext
from core.observability import redact_path

__all__ = [
    "N_",
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemBody",
    "conflict",
    "exception_handlers",
    "forbidden",
    "ids_in_range",
    "invalid",
    "not_found",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:orga:problem:"
log = logging.getLogger("orga.problems")


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet (translated per request)."""
    return message


_STATUS_SLUGS = {
    400: ("bad-request", N_("Bad request")),
    401: ("unauthenticated", N_("Authentication required")),
    403: ("forbidden", N_("Permission denied")),
    404: ("not-found", N_("Not found")),
    405: ("method-not-allowed", N_("Method not allowed")),
    409: ("conflict", N_("Conflict")),
    413: ("body-too-large", N_("Request body too large")),
    415: ("unsupported-media-type", N_("Unsupported media type")),
    422: ("validation-error", N_("Invalid input")),
    429: ("too-many-requests", N_("Too many requests")),
    500: ("internal-error", N_("Internal server error")),
    503: ("unavailable", N_("Service unavailable")),
}


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: a dotted/JSON path and what is wrong with it."""

    field: str
    message: str


class ProblemBody(msgspec.Struct, omit_defaults=True):
    """The JSON body of every error response (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    """An error answered as problem details.

    Args:
        status: HTTP status code.
        slug: stable short name, rendered as ``urn:orga:problem:<slug>``.
        detail: a sentence for humans about this occurrence.
        title: summary of the problem type (default from the status).
        errors: offending fields, for validation problems.
        headers: extra response headers (e.g. ``Retry-After``).
        values: fill the ``%(name)s`` placeholders of ``detail`` and of each error's message.
            The unfilled texts stay available as message ids (``detail_id``, ``error_ids``),
            so a page can show them translated (:func:`core.public.form_errors`).
    """

    def __init__(
        self,
        status: int,
        slug: str | None = None,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        default_slug, default_title = _STATUS_SLUGS.get(status, ("error", "Error"))
        self.status = status
        self.slug = slug or default_slug
        self.title = title or default_title
        self.values = dict(values or {})
        self.detail_id = detail
        self.error_ids = {e.field: e.message for e in errors or []}
        if self.values:
            detail = detail % self.values if detail else detail
            errors = [FieldError(e.field, e.message % self.values) for e in errors or []] or None
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        super().__init__(detail or self.title)

    def body(self, instance: str | None = None) -> ProblemBody:
        """The serializable body."""
        return ProblemBody(
            type=TYPE_PREFIX + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )


def not_found(what: str = "resource") -> Problem:
    """404 for a missing object or one outside the caller's scope (no existence leak)."""
    return Problem(404, "not-found", f"The {what} does not exist or is not visible to you.")


def forbidden(permission: str) -> Problem:
    """403 for a missing permission inside the caller's scope."""
    return Problem(403, "forbidden", f"This needs the permission '{permission}'.")


def conflict(detail: str, field: str | None = None, **values: Any) -> Problem:
    """409 for a uniqueness or state conflict (``values`` fill ``%(name)s`` in ``detail``)."""
    errors = [FieldError(field, detail)] if field else None
    return Problem(409, "conflict", detail, errors=errors, values=values)


def invalid(field: str, message: str, **values: Any) -> Problem:
    """422 for one invalid field found after parsing (``values`` fill ``%(name)s`` in
    ``message``; mark it ``N_`` and a console page shows it translated)."""
    return Problem(
        422, "validation-error", message, errors=[FieldError(field, message)], values=values
    )


def _respond(request: Request, problem: Problem) -> Response:
    if request.url.path.startswith("/app"):  # the console answers with pages, not JSON
        from core.web.errors import console_problem_response

        return console_problem_response(request, problem)
    runtime = getattr(request.app.state, "orga", None)
    default = runtime.settings.locale if runtime else "en"
    locale = best_locale(request.headers.get("accept-language"), default)
    body = problem.body(instance=request.url.path)
    body.title = gettext(body.title, locale)
    return Response(
        content=body,
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _field_of(item: dict[str, Any]) -> str:
    key = item.get("key") or ""
    source = item.get("source") or ""
    if source and source != "body":
        return f"{source}.{key}" if key else source
    return key or "body"


def _handle_problem(request: Request, exc: Problem) -> Response:
    return _respond(request, exc)


def _handle_validation(request: Request, exc: ValidationException) -> Response:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [FieldError(_field_of(e), str(e.get("message", "invalid"))) for e in extra]
    if not errors:
        errors = [FieldError("body", exc.detail)]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return _respond(request, Problem(422, "validation-error", detail, errors=errors))


def _handle_http(request: Request, exc: HTTPException) -> Response:
    problem = Problem(exc.status_code, detail=exc.detail, headers=dict(exc.headers or {}))
    return _respond(request, problem)


_ID_RANGE = range(-(2**31), 2**31)


async def ids_in_range(request: Request) -> None:
    """``before_request``: ids are 32-bit. An integer path parameter no id can have is a 404,
    an ``…_id`` query parameter beyond the range a 422 naming it, both answered before the
    number reaches a database that would reject it (or a streamed answer already under way)."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and value not in _ID_RANGE:
            raise not_found(name.removesuffix("_id").replace("_", " ") or "object")
    for name, value in request.query_params.items():
        if name.endswith("_id") and value.lstrip("-").isdigit() and int(value) not in _ID_RANGE:
            raise invalid(name, "no object has this id")


def _out_of_range(exc: Exception) -> bool:
    """A number or date the database cannot store (SQLite: OverflowError; asyncpg: DataError
    raised while encoding the argument)."""
    if isinstance(exc, OverflowError):
        return True
    try:
        from asyncpg.exceptions import DataError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(exc, DataError)


def _handle_unexpected(request: Request, exc: Exception) -> Response:
    if _out_of_range(exc):
        return _respond(
            request,
            Problem(
                422,
                "out-of-range",
                "A number or date in the request is outside the range orga can store.",
                title=N_("Value out of range"),
            ),
        )
    log.exception("unhandled error on %s %s", request.method, redact_path(request.url.path))
    return _respond(request, Problem(500, detail="The error was logged."))


exception_handlers = {
    Problem: _handle_problem,
    ValidationException: _handle_validation,
    HTTPException: _handle_http,
    Exception: _handle_unexpected,
}
