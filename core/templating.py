"""The one Jinja2 environment, and the sandbox for templates that users write.

Lookup order: the deployment's ``ORGA_TEMPLATES_DIR`` → module ``templates/`` folders → core's
``templates/``, so a sister party changes wording and branding without forking. Mail templates
are ``<name>.txt.jinja`` (blocks ``subject`` and ``text``) plus an optional autoescaped
``<name>.html.jinja``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from core.i18n import translations
from core.web.formatting import install_filters

__all__ = ["RenderedMail", "TemplateProblem", "Templates", "render_user_template"]

CORE_TEMPLATES = Path(__file__).parent / "templates"
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


_sandbox = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=256)
def _compile_user_template(source: str) -> Template:
    """Compiled once per source: a mass mailing renders one body many thousand times."""
    return _sandbox.from_string(source)


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
    source: str, context: dict[str, Any], *, max_seconds: float = 2.0, max_chars: int = 1_000_000
) -> str:
    """Render a template a user wrote (a mailing body) in Jinja2's sandbox.

    Output is produced chunk by chunk; rendering stops when it runs longer than
    ``max_seconds`` or produces more than ``max_chars``. Loops are bounded by the sandbox's
    ``range`` limit, so a template cannot spin without output.

    Raises:
        TemplateProblem: syntax errors, undefined variables, sandbox violations and limits,
            with the template line when known.
    """
    try:
        template = _compile_user_template(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or str(exc), exc.lineno) from exc
    deadline = time.monotonic() + max_seconds
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**context):
            parts.append(chunk)
            size += len(chunk)
            if size > max_chars:
                raise TemplateProblem(f"output longer than {max_chars} characters", None)
            if time.monotonic() > deadline:
                raise TemplateProblem(f"rendering took longer than {max_seconds} s", None)
    except TemplateProblem:
        raise
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateProblem(str(exc), _template_line(exc)) from exc
    return "".join(parts)
