"""Helpers for the public pages people outside the party see (sign-up forms, unsubscribe).

Pages are Jinja2 rendered on the server and work without JavaScript. Forms carry a honeypot
field (``website``, hidden by CSS) and are rate limited per client address.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from typing import Any

import msgspec
from litestar import Request, Response

from core.http import HTML
from core.i18n import best_locale, page_text
from core.problems import N_, Problem, invalid

__all__ = [
    "FORM_FIELD",
    "HONEYPOT_FIELD",
    "RateLimit",
    "client_address",
    "form_errors",
    "form_int",
    "honeypot_tripped",
    "page_locale",
    "render_page",
]

HONEYPOT_FIELD = "website"
FORM_FIELD = "form"  # the key of an error about the whole form (shown above it)
_CHECK_FIELD = N_("Please check this entry.")
_CHECK_FORM = N_("Please check your entries.")


def page_locale(request: Request) -> str:
    """The best locale for the visitor (``Accept-Language``), else the deployment's."""
    settings = request.app.state.orga.settings
    return best_locale(request.headers.get("accept-language"), settings.locale)


def render_page(
    request: Request, template: str, status: int = 200, **context: Any
) -> Response[str]:
    """Render a page template (``pages/...``) for the visitor's locale as an HTML response."""
    runtime = request.app.state.orga
    locale = page_locale(request)
    html = runtime.templates.render_page(
        template,
        {"locale": locale, "public_url": runtime.settings.public_url, **context},
        locale,
    )
    return Response(html, media_type=HTML, status_code=status)


def form_errors(
    errors: Problem | msgspec.ValidationError | Mapping[str, str],
    locale: str,
    fields: Collection[str],
) -> dict[str, str]:
    """The errors of a public form as ``{field: message}`` in the page's language.

    ``errors`` is a :class:`Problem` (its field errors, else its detail), a msgspec
    validation error (the field of its path, or the field a ``__post_init__`` check names
    as ``"field: message"``), or messages already collected. Each message
    goes through :func:`core.i18n.page_text`: catalog texts are shown translated, anything
    else becomes "Please check this entry." in the page's language. An error about a field
    that is not among ``fields`` (the inputs the page shows) is shown for the whole form
    under :data:`FORM_FIELD`, so no error is lost. A problem raised with ``values`` (e.g.
    ``invalid(field, N_("'%(code)s' …"), code=…)``) is translated as its message id and then
    filled in.
    """
    values: dict[str, Any] = {}
    if isinstance(errors, Problem):
        found = {e.field: e.message for e in errors.errors or []}
        if set(found) == set(errors.error_ids):  # message ids: filled in after translation
            found, values = dict(errors.error_ids), errors.values
        if not found:
            found = {FORM_FIELD: errors.detail_id or errors.title}
    elif isinstance(errors, msgspec.ValidationError):
        text, _, path = str(errors).partition(" - at `$")
        field = path.rstrip("`").lstrip(".").split("[")[0].split(".")[0]
        named, colon, rest = text.partition(": ")
        if not field and colon and named in fields:  # a check in __post_init__ names its field
            field, text = named, rest
        found = {field or FORM_FIELD: text}
    else:
        found = dict(errors)
    result: dict[str, str] = {}
    for field, message in found.items():
        if field in fields and field != FORM_FIELD:
            result[field] = _filled(page_text(message, locale, _CHECK_FIELD), values)
        else:
            result.setdefault(FORM_FIELD, _filled(page_text(message, locale, _CHECK_FORM), values))
    return result


def _filled(text: str, values: Mapping[str, Any]) -> str:
    return text % values if values else text


def client_address(request: Request) -> str:
    """The client's address as the ASGI server saw it (set forwarded headers at the proxy)."""
    return request.client.host if request.client else "unknown"


def honeypot_tripped(form: Any) -> bool:
    """True when the hidden ``website`` field was filled in (a bot, not a person)."""
    return bool((form.get(HONEYPOT_FIELD) or "").strip())


def form_int(form: Any, field: str, default: int = 0) -> int:
    """The whole number in form field ``field`` (``default`` when empty or missing).

    Raises:
        Problem: 422 naming ``field`` when it holds something else or a number beyond the
            32-bit range of ids, so a tampered form is an error shown on the page, not a 500.
    """
    raw = (form.get(field) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(field, N_("Please enter a whole number.")) from None
    if not -(2**31) <= value < 2**31:
        raise invalid(field, N_("This number is out of range."))
    return value


class RateLimit:
    """A per-process fixed-window counter: at most ``limit`` hits per key every ``window`` s.

    With several server processes each one counts on its own, so the effective limit is
    ``limit * processes``; that is enough to slow bots down without a shared store.
    """

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def hit(self, key: str) -> bool:
        """Count one hit for ``key``; False when the key is over its limit."""
        now = time.monotonic()
        start, count = self._hits.pop(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        self._hits[key] = (start, count + 1)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return count + 1 <= self.limit

    def check(self, request: Request) -> None:
        """Raise 429 (with ``Retry-After``) when the client is over the limit."""
        if not self.hit(client_address(request)):
            raise Problem(
                429,
                "rate-limited",
                "Too many requests from this address. Try again in a minute.",
                title=N_("Too many requests"),
                headers={"Retry-After": str(int(self.window))},
            )
