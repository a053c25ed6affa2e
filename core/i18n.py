"""Translations (gettext catalogs managed with Babel): German, English, Swedish.

Catalogs live in ``core/locale/<lang>/LC_MESSAGES/orga.po`` and are compiled in memory when
first used, so a fresh clone needs no build step. ``make i18n-extract`` / ``make i18n-update`` /
``make i18n-compile`` maintain them.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["LOCALES", "best_locale", "gettext", "ngettext", "translations"]

LOCALES = ("de", "en", "sv")
LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """Compiled translations for ``locale`` (English text falls through untranslated)."""
    po_file = LOCALE_DIR / locale / "LC_MESSAGES" / "orga.po"
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str, locale: str) -> str:
    """Translate ``message`` into ``locale``."""
    return translations(locale).gettext(message)


def ngettext(singular: str, plural: str, n: int, locale: str) -> str:
    """Translate with plural forms."""
    return translations(locale).ngettext(singular, plural, n)


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
