"""Problems on console pages become pages: a login redirect for 401, else an error page with
the problem's title and detail (the app hands this to core's one error path,
``core.problems.exception_handlers``, for every path under ``/app``). Exception handlers run
synchronously, so the page is drawn without the menu (no database query): a heading, the
sentence and the way back."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Redirect

from core.http import HTML
from core.i18n import gettext
from core.problems import Problem
from core.web.csrf import FIELD, csrf_token
from core.web.render import console_locale

__all__ = ["console_problem_response"]


def console_problem_response(request: Request, problem: Problem) -> Response:
    """The page answering ``problem`` on a console path."""
    if problem.status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return Redirect(f"/app/login?next={quote(target, safe='')}", status_code=303)
    locale = console_locale(request)
    context = {
        "locale": locale,
        "title": gettext(problem.title, locale),
        "detail": problem.detail_in(locale) or "",
        "status": problem.status,
        "breadcrumbs": [],
        "csrf_field": FIELD,
        "csrf": csrf_token(request),
        "flash": None,
        "me": None,
        "org": None,
        "units": [],
        "menu": [],
        "path": request.url.path,
    }
    html = request.app.state.orga.templates.render_page("console/error.html.jinja", context, locale)
    return Response(
        html,
        media_type=HTML,
        status_code=problem.status,
        headers={**problem.headers, "Cache-Control": "no-store"},
    )
