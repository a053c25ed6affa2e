"""The one Jinja2 environment, and rendering the templates that users write.

Lookup order: the deployment's ``ORGA_TEMPLATES_DIR`` → module ``templates/`` folders → core's
``templates/``, so a sister party changes wording and branding without forking. Mail templates
are ``<name>.txt.jinja`` (blocks ``subject`` and ``text``) plus an optional autoescaped
``<name>.html.jinja``.

User templates (mailing bodies) compile and render in :mod:`core.sandbox`, with a budget of
time, steps and size that covers compiling too, in orga's template threads
(:func:`render_off_loop`) so a hostile one cannot stall the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)

from core.i18n import translations
from core.sandbox import UserSandbox, budget_scope
from core.web.formatting import install_filters

__all__ = [
    "ANSWER_SECONDS",
    "TEMPLATE_THREADS",
    "USER_TEMPLATE_CHARS",
    "USER_TEMPLATE_SECONDS",
    "RenderedMail",
    "TemplateProblem",
    "Templates",
    "compile_user_template",
    "render_off_loop",
    "render_user_template",
]

T = TypeVar("T")
CORE_TEMPLATES = Path(__file__).parent / "templates"
#: the budget of one user template (compile and render): seconds, and characters of output
USER_TEMPLATE_SECONDS = 2.0
USER_TEMPLATE_CHARS = 1_000_000
#: threads that compile and render user templates, and how long an answer waits for them
TEMPLATE_THREADS = 4
ANSWER_SECONDS = 10.0
_locale: ContextVar[str] = ContextVar("orga_template_locale", default="en")


@dataclass(frozen=True)
class RenderedMail:
    """A mail rendered for one recipient."""

    subject: str
    text: str
    html: str | None


class TemplateProblem(Exception):
    """A template failed to compile or render; ``line`` is where (when known)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line


def _gettext(message: str, **variables: Any) -> str:
    text = translations(_locale.get()).gettext(message)
    return text % variables if variables else text


def _ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(_locale.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


class Templates:
    """Renders pages and mails from the layered template folders."""

    def __init__(
        self,
        override_dir: str | None,
        module_dirs: Sequence[Path],
        auto_reload: bool = False,
        timezone: str = "Europe/Berlin",
    ) -> None:
        folders = [Path(override_dir)] if override_dir else []
        folders += [*module_dirs, CORE_TEMPLATES]
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
            autoescape=select_autoescape(["html", "html.jinja"], default=False),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=auto_reload,
        )
        self.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
        install_filters(self.env, timezone)

    def render_page(self, name: str, context: dict[str, Any], locale: str) -> str:
        """Render a whole page template in ``locale``."""
        token = _locale.set(locale)
        try:
            return self.env.get_template(name).render(**context)
        finally:
            _locale.reset(token)

    def render_mail(self, name: str, context: dict[str, Any], locale: str) -> RenderedMail:
        """Render mail ``name``: ``<name>.txt.jinja`` holds the ``subject`` and ``text`` blocks,
        the optional ``<name>.html.jinja`` (autoescaped) the HTML alternative."""
        token = _locale.set(locale)
        try:
            template = self.env.get_template(f"{name}.txt.jinja")
            ctx = template.new_context(dict(context))

            def block(block_name: str) -> str:
                render = template.blocks.get(block_name)
                return "".join(render(ctx)).strip() if render else ""

            subject = " ".join(block("subject").split())
            text = block("text") + "\n"
            try:
                html = self.env.get_template(f"{name}.html.jinja").render(**context)
            except TemplateNotFound:
                html = None
            return RenderedMail(subject=subject, text=text, html=html)
        finally:
            _locale.reset(token)


_sandbox = UserSandbox()
_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """Compiled once per source: a mass mailing renders one body many thousand times."""
    return _sandbox.from_string(source)


def _compile(source: str) -> Template:
    try:
        return _compiled(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or str(exc), exc.lineno) from exc
    except (RecursionError, MemoryError) as exc:  # Jinja2's parser or Python's compiler
        raise TemplateProblem("the template is nested too deeply", None) from exc
    except SyntaxError as exc:  # the Python it compiles to (too many nested loops, …)
        raise TemplateProblem(f"the template cannot be compiled: {exc.msg}", None) from exc
    except Exception as exc:  # e.g. an integer literal of more than 4300 digits
        raise TemplateProblem(f"the template cannot be compiled: {exc}", None) from exc


def compile_user_template(source: str) -> None:
    """Check that a user template compiles (syntax, nesting), e.g. before storing it.

    Raises:
        TemplateProblem: with the template line when known.
    """
    _compile(source)


def _template_line(exc: BaseException) -> int | None:
    line = getattr(exc, "lineno", None)
    if line:
        return line
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


def render_user_template(
    source: str,
    context: dict[str, Any],
    *,
    max_seconds: float = USER_TEMPLATE_SECONDS,
    max_chars: int = USER_TEMPLATE_CHARS,
) -> str:
    """Render a template a user wrote (a mailing body) in the sandbox of :mod:`core.sandbox`.

    Compiling and rendering together get ``max_seconds``; the output may be ``max_chars`` long
    and no value the template makes longer; loops, calls and filters are counted and every one
    checks the time, so runaway work stops at the limit instead of stalling the process. Call
    it through :func:`render_off_loop` from async code.

    Raises:
        TemplateProblem: syntax errors, undefined variables, sandbox violations and limits,
            with the template line when known.
    """
    with budget_scope(max_seconds, max_chars) as budget:
        template = _compile(source)
        parts: list[str] = []
        size = 0
        try:
            budget.tick()
            for chunk in template.generate(**context):
                parts.append(chunk)
                size += len(chunk)
                if size > max_chars:
                    raise TemplateProblem(f"output longer than {max_chars} characters", None)
                budget.tick()
        except TemplateProblem:
            raise
        except (RecursionError, MemoryError) as exc:
            raise TemplateProblem("the template nests too deeply", _template_line(exc)) from exc
        except Exception as exc:  # whatever the template's own code raised is its problem
            raise TemplateProblem(str(exc) or type(exc).__name__, _template_line(exc)) from exc
    return "".join(parts)


def _executor() -> ThreadPoolExecutor:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(TEMPLATE_THREADS, thread_name_prefix="orga-template")
        return _threads


async def render_off_loop(
    fn: Callable[..., T], *args: Any, answer_within: float | None = ANSWER_SECONDS
) -> T:
    """Run ``fn(*args)``, work that compiles or renders user templates, in orga's template
    threads (with the caller's context variables), so the event loop keeps answering.

    The threads are orga's own (:data:`TEMPLATE_THREADS`), so renders never take the threads
    that password hashing and file work use. The sandbox's own limits end a render; the
    ``answer_within`` seconds (``None``: wait) are the backstop for the answer: the caller gets a
    :class:`TemplateProblem` then, even though a thread cannot be stopped.
    """
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    future = loop.run_in_executor(_executor(), call)
    try:
        return await asyncio.wait_for(future, answer_within)
    except TimeoutError:
        message = f"rendering took longer than {answer_within:g} s"
        raise TemplateProblem(message, None) from None
