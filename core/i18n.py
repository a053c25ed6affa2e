"""Translations (gettext catalogs managed with Babel): German, English, Swedish.

Catalogs live in ``core/locale/<lang>/LC_MESSAGES/orga.po`` and are compiled in memory when
first used, so a fresh clone needs no build step. ``make i18n-extract`` / ``make i18n-update`` /
``make i18n-compile`` maintain them.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = [
    "LOCALES",
    "SOURCE_LOCALE",
    "best_locale",
    "catalog",
    "gettext",
    "ngettext",
    "page_text",
    "translations",
]

LOCALES = ("de", "en", "sv")
SOURCE_LOCALE = "en"  # message ids are English: an empty ``en`` translation shows the id
LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=8)
def catalog(locale: str) -> Catalog | None:
    """The parsed ``.po`` catalog of ``locale`` (``None`` for a language orga does not ship)."""
    po_file = LOCALE_DIR / locale / "LC_MESSAGES" / "orga.po"
    if not po_file.exists():
        return None
    with po_file.open("rb") as fh:
        return read_po(fh, locale=locale)


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """Compiled translations for ``locale`` (English text falls through untranslated)."""
    parsed = catalog(locale)
    if parsed is None:
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, parsed)
    buffer.seek(0)
    return Translations(fp=buffer)


@lru_cache(maxsize=8)
def _translated_texts(locale: str) -> frozenset[str]:
    """Every translation in the catalog of ``locale`` (plural forms included)."""
    parsed = catalog(locale)
    texts: set[str] = set()
    for message in parsed or ():
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts.update(s for s in strings if s)
    return frozenset(texts)


def gettext(message: str, locale: str) -> str:
    """Translate ``message`` into ``locale``."""
    return translations(locale).gettext(message)


def ngettext(singular: str, plural: str, n: int, locale: str) -> str:
    """Translate with plural forms."""
    return translations(locale).ngettext(singular, plural, n)


def page_text(message: str, locale: str, fallback: str) -> str:
    """``message`` as a visitor reading ``locale`` may see it on a page.

    A message id of the catalog is translated; a text that already is one of the catalog's
    translations stays as it is; any other text (an English sentence from a library or from
    a check written for the API) becomes the translated ``fallback`` (itself a message id),
    so no English sentence reaches a German or Swedish page. English pages show ``message``.
    A translation with its placeholders filled in is not a catalog text: translate such
    messages before formatting them, or pass them as message ids.
    """
    if locale == SOURCE_LOCALE:
        return gettext(message, locale)
    parsed = catalog(locale)
    entry = parsed.get(message) if parsed is not None else None
    if entry is not None and entry.string and not isinstance(entry.string, tuple):
        return entry.string
    if message in _translated_texts(locale):
        return message
    return gettext(fallback, locale)


def best_locale(accept_language: str | None, default: str) -> str:
    """The first supported language of an ``Accept-Language`` header, else ``default``."""
    if accept_language:
        weighted = []
        for part in accept_language.split(","):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            weighted.append((quality, tag.strip().lower()[:2]))
        for _, lang in sorted(weighted, key=lambda w: -w[0]):
            if lang in LOCALES:
                return lang
    return default
