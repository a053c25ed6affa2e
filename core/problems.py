"""One error format: RFC 9457 problem details (``application/problem+json``).

Raise :class:`Problem` (or one of the helpers) anywhere; the handlers registered by
``create_app`` turn it, Litestar's own HTTP errors, validation errors and unexpected exceptions
into a problem response with a stable ``type`` (``urn:orga:problem:<slug>``), a human ``title``
and ``detail``, and for validation errors the offending ``errors[].field`` (a plain name or a
path such as ``consents[0].channel``). Stack traces never reach the client.

``title`` and ``detail`` are answered in the request's language (``Accept-Language``, else the
deployment's): a message of the catalog (marked with :func:`N_`, placeholders ``%(name)s``
filled from ``values``) is translated; a free English sentence of a problem with field errors
becomes "Please check: <fields>" in the reader's language, its English reason staying in
``errors[].message``; any other free sentence is sent as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.utils.scope.state import ScopeState

from core.i18n import SOURCE_LOCALE, best_locale, catalog, gettext
from core.observability import redact_path

__all__ = [
    "N_",
    "OBJECT_NAMES",
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemBody",
    "Responder",
    "check_storable",
    "conflict",
    "exception_handlers",
    "forbidden",
    "ids_in_range",
    "invalid",
    "not_found",
    "problem_response",
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
    412: ("precondition-failed", N_("Precondition failed")),
    413: ("body-too-large", N_("Request body too large")),
    415: ("unsupported-media-type", N_("Unsupported media type")),
    422: ("validation-error", N_("Invalid input")),
    429: ("too-many-requests", N_("Too many requests")),
    500: ("internal-error", N_("Internal server error")),
    503: ("unavailable", N_("Service unavailable")),
}

#: What :func:`not_found` is called with (the callers' names and the path parameters'
#: ``<name>_id``), marked so the sentence names the object in the reader's language.
OBJECT_NAMES = (
    N_("resource"),
    N_("object"),
    N_("org"),
    N_("org unit"),
    N_("person"),
    N_("user"),
    N_("token"),
    N_("role assignment"),
    N_("module"),
    N_("import"),
    N_("segment"),
    N_("sender identity"),
    N_("queued job"),
    N_("failed or cancelled job"),
    N_("assignment"),
    N_("call assignment"),
    N_("call"),
    N_("earlier call with this person"),
    N_("followup"),
    N_("follow-up"),
    N_("event"),
    N_("participation"),
    N_("shift"),
    N_("mailing"),
    N_("edition"),
    N_("order"),
    N_("topic"),
    N_("referral"),
    N_("link"),
    N_("file"),
    N_("suppression"),  # mailings26
)

_PLEASE_CHECK = N_("Please check: %(fields)s.")
_OUT_OF_RANGE = N_("Value out of range")
_NUMBER_OUT_OF_RANGE = N_("number out of range")
_DATE_OUT_OF_RANGE = N_("date out of range")
_NO_SUCH_ID = N_("no object has this id")
_NUL = N_("text must not contain the NUL character")


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
        detail: a sentence for humans about this occurrence; a catalog message (``N_``) is
            translated per request, its ``%(name)s`` placeholders filled from ``values``.
        title: summary of the problem type (default from the status).
        errors: offending fields, for validation problems.
        headers: extra response headers (e.g. ``Retry-After``).
        values: the placeholders of ``detail`` and of each error's message; a value that is
            itself a catalog message (an object name of :data:`OBJECT_NAMES`) is translated
            too. The unfilled texts stay available as message ids (``detail_id``,
            ``error_ids``), so a page can show them translated (:func:`core.public.form_errors`).
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
        self.detail_id = detail  # the untranslated message id
        self.error_ids = {e.field: e.message for e in errors or []}
        if self.values:
            detail = detail % self.values if detail else detail
            errors = [FieldError(e.field, e.message % self.values) for e in errors or []] or None
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        super().__init__(self.detail or self.title)

    def detail_in(self, locale: str) -> str | None:
        """``detail`` in ``locale`` (see the module's description of the rule)."""
        if not self.detail_id:
            return None
        if locale == SOURCE_LOCALE or _in_catalog(self.detail_id, locale):
            text = gettext(self.detail_id, locale)
            if not self.values:
                return text
            return text % {k: _translated(v, locale) for k, v in self.values.items()}
        if self.errors:
            fields = ", ".join(dict.fromkeys(e.field for e in self.errors))
            return gettext(_PLEASE_CHECK, locale) % {"fields": fields}
        return self.detail

    def body(self, instance: str | None = None, locale: str = SOURCE_LOCALE) -> ProblemBody:
        """The serializable body, its texts in ``locale``."""
        errors = self.errors
        if errors and locale != SOURCE_LOCALE:
            errors = [FieldError(e.field, _translated(e.message, locale)) for e in errors]
        return ProblemBody(
            type=TYPE_PREFIX + self.slug,
            title=gettext(self.title, locale),
            status=self.status,
            detail=self.detail_in(locale),
            instance=instance,
            errors=errors,
        )


def _in_catalog(message: str, locale: str) -> bool:
    entry = (catalog(locale) or {}).get(message) if message else None
    return entry is not None and bool(entry.string)


def _translated(message: str, locale: str) -> str:
    """``message`` translated when it is a catalog message, else as it is."""
    return gettext(message, locale) if _in_catalog(message, locale) else message


def not_found(what: str = "resource") -> Problem:
    """404 for a missing object or one outside the caller's scope (no existence leak)."""
    return Problem(
        404,
        "not-found",
        N_("The %(what)s does not exist or is not visible to you."),
        values={"what": what},
    )


def forbidden(permission: str) -> Problem:
    """403 for a missing permission inside the caller's scope."""
    return Problem(
        403,
        "forbidden",
        N_("This needs the permission '%(permission)s'."),
        values={"permission": permission},
    )


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


def problem_response(request: Request, problem: Problem) -> Response:
    """``problem`` as ``application/problem+json`` in the request's language."""
    runtime = getattr(request.app.state, "orga", None)
    default = runtime.settings.locale if runtime else "en"
    locale = best_locale(request.headers.get("accept-language"), default)
    return Response(
        content=problem.body(instance=request.url.path, locale=locale),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


_NAMED_IN_MESSAGE = ("Object contains unknown field `", "Object missing required field `")


def _field_of(item: dict[str, Any]) -> str:
    """The plain name or path of the field a Litestar validation error is about.

    A body error's key is the path inside the body (``data`` for the body itself); msgspec
    names an unknown or missing member only in its message, so that member is appended. A
    parameter's key is its name (the source, ``ParamType.QUERY`` and so on, is left out)."""
    key = str(item.get("key") or "")
    if item.get("source") != "body":
        return key or "body"
    message = str(item.get("message") or "")
    path = "" if key == "data" else key
    for prefix in _NAMED_IN_MESSAGE:
        if message.startswith(prefix) and message.endswith("`"):
            name = message[len(prefix) : -1]
            return f"{path}.{name}" if path else name
    return path or "body"


def _validation_problem(request: Request, exc: ValidationException) -> Problem:
    # Litestar re-checks each parameter of the handler's signature one by one to list every
    # error, including path parameters the handler does not take (``org_id`` of every route
    # under /api/orgs/{org_id}, read by a dependency) and so never decodes: their KeyError
    # comes back as an error. Only parameters the signature model decodes can be wrong.
    model = getattr(request.scope.get("route_handler"), "signature_model", None)
    decoded = set(getattr(model, "__struct_fields__", ()))
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        FieldError(_field_of(e), str(e.get("message", "invalid")))
        for e in extra
        if e.get("source") == "body" or not e.get("key") or e.get("key") in decoded
    ]
    if not errors:
        errors = [FieldError("body", exc.detail)]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return Problem(422, "validation-error", detail, errors=errors)


def _http_problem(request: Request, exc: HTTPException) -> Problem:
    # Litestar's own details ("Not Found", "Request Entity Too Large") only repeat the
    # status, which the translated title says already
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = None
    bare = exc.detail in (phrase, getattr(type(exc), "detail", None))
    return Problem(
        exc.status_code, detail=None if bare else exc.detail, headers=dict(exc.headers or {})
    )


_ID_RANGE = range(-(2**31), 2**31)  # every integer column is 32 bits wide on PostgreSQL
_INT64 = range(-(2**63), 2**63)  # SQLite's integers
_EDGE = timedelta(days=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC) + _EDGE
_LATEST = datetime.max.replace(tzinfo=UTC) - _EDGE


async def ids_in_range(request: Request) -> None:
    """``before_request``: ids are 32-bit. An integer path parameter no id can have is a 404,
    an ``…_id`` query parameter beyond the range a 422 naming it, both answered before the
    number reaches a database that would reject it (or a streamed answer already under way)."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and value not in _ID_RANGE:
            raise not_found(name.removesuffix("_id").replace("_", " ") or "object")
    for name, value in request.query_params.items():
        if name.endswith("_id") and value.lstrip("-").isdecimal() and int(value) not in _ID_RANGE:
            raise invalid(name, _NO_SUCH_ID)


def check_storable(body: Any) -> None:
    """Refuse a decoded JSON body holding a value no database of orga can store, naming each
    field: an integer beyond 64 bits, an id (``id``, ``…_id``, ``…_ids``) beyond 32 bits, text
    with a NUL character (PostgreSQL refuses it, so SQLite is kept to the same rule), or a
    point in time within a day of the calendar's ends (years 1 and 9999), which cannot be
    converted between time zones. Called where the request body is decoded."""
    errors = list(_unstorable([("", "", body)], _INT64))
    if errors:
        raise _out_of_range_problem(errors)


def _out_of_range_problem(errors: list[FieldError]) -> Problem:
    return Problem(
        422,
        "out-of-range",
        N_("A number, date or text in the request is outside what orga can store."),
        title=_OUT_OF_RANGE,
        errors=errors[:20],
    )


def _is_id(key: str) -> bool:
    return key == "id" or key.endswith(("_id", "_ids"))


def _unstorable(todo: list[tuple[str, str, Any]], numbers: range) -> Iterator[FieldError]:
    """The fields among ``(path, key, value)`` (walked without recursion: a body may be
    nested as deep as the decoder allows) whose value cannot be stored; ``numbers`` is the
    range an integer must lie in."""
    while todo:
        path, key, value = todo.pop()
        if isinstance(value, dict):
            for name, item in reversed(value.items()):
                inner = f"{path}.{name}" if path else str(name)
                if "\x00" in str(name):
                    yield FieldError(inner, _NUL)
                todo.append((inner, str(name), item))
        elif isinstance(value, list):
            todo += [(f"{path}[{n}]", key, item) for n, item in reversed(list(enumerate(value)))]
        elif isinstance(value, str):
            if "\x00" in value:
                yield FieldError(path or "body", _NUL)
            elif value[:5] in ("0001-", "9999-") and _at_calendar_edge(value):
                yield FieldError(path or "body", _DATE_OUT_OF_RANGE)
        elif isinstance(value, int) and not isinstance(value, bool):
            if value not in numbers:
                yield FieldError(path or "body", _NUMBER_OUT_OF_RANGE)
            elif _is_id(key) and value not in _ID_RANGE:
                yield FieldError(path, _NO_SUCH_ID)


def _at_calendar_edge(text: str) -> bool:
    """Whether ``text`` is a point in time less than a day from the ends of the calendar
    (converting it to UTC or another zone would leave the calendar; one without an offset is
    read as UTC)."""
    try:
        moment = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return not _EARLIEST <= moment.astimezone(UTC) <= _LATEST
    except OverflowError:
        return True


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


def _too_deep(exc: Exception) -> bool:
    """A request body nested deeper than the decoder recurses (msgspec's RecursionError),
    e.g. a segment tree of thousands of ``not`` groups."""
    return isinstance(exc, RecursionError) and "deserializing" in str(exc)


def _refused_fields(request: Request) -> list[FieldError]:
    """The fields of a request the database refused: the values of its JSON or form body and
    query that no 32-bit integer column, PostgreSQL text or time zone takes; the body as a
    whole when none of them is such a value (the database named no argument)."""
    state = ScopeState.from_scope(request.scope)
    todo: list[tuple[str, str, Any]] = [("", "", state.json), ("", "", state.form)]
    todo += [(name, name, value) for name, value in request.query_params.multi_items()]
    return list(_unstorable(todo, _ID_RANGE)) or [
        FieldError("body", N_("a value the database cannot store"))
    ]


def _unexpected_problem(request: Request, exc: Exception) -> Problem:
    if _too_deep(exc):
        return Problem(400, detail="The request body is nested too deeply.")
    if _out_of_range(exc):
        return _out_of_range_problem(_refused_fields(request))
    log.exception("unhandled error on %s %s", request.method, redact_path(request.url.path))
    return Problem(500, detail=N_("The error was logged."))


Responder = Callable[[Request, Problem], Response]


def exception_handlers(pages: Responder) -> dict[type[Exception], Responder]:
    """Core's one error path, for the app: every exception becomes a :class:`Problem`, answered
    as ``application/problem+json`` (:func:`problem_response`), or by ``pages`` on a console
    path (under ``/app``, which answers with pages, not JSON)."""

    def respond(request: Request, problem: Problem) -> Response:
        if request.url.path.startswith("/app"):
            return pages(request, problem)
        return problem_response(request, problem)

    def as_problem(
        convert: Callable[[Request, Any], Problem],
    ) -> Callable[[Request, Any], Response]:
        return lambda request, exc: respond(request, convert(request, exc))

    return {
        Problem: respond,  # type: ignore[dict-item]
        ValidationException: as_problem(_validation_problem),
        HTTPException: as_problem(_http_problem),
        Exception: as_problem(_unexpected_problem),
    }
