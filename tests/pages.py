"""Helpers for tests of public pages: the error texts a page shows, and a check that they are
all in the page's language."""

from __future__ import annotations

import html
import re

from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR

_ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.S)


def error_texts(page: str) -> list[str]:
    """The texts of the page's error paragraphs (``<p class="error">``), unescaped."""
    return [html.unescape(text).strip() for text in _ERROR.findall(page)]


def assert_errors_in(page: str, locale: str) -> list[str]:
    """Every error on ``page`` is a translation from the ``locale`` catalog (so no English
    sentence from a library or an API check reached it); returns the texts."""
    texts = error_texts(page)
    assert texts, "the page shows no error"
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "orga.po").open("rb") as fh:
        known = {m.string for m in read_po(fh) if m.id and isinstance(m.string, str) and m.string}
    foreign = [text for text in texts if text not in known]
    assert not foreign, f"not {locale} catalog texts: {foreign}"
    return texts
