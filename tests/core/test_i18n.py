"""The catalogs are complete: every string marked in code and templates is in the German
catalog, Swedish and English hold every German message id, Swedish translates each one, and
no translation loses or invents a placeholder."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from core.i18n import LOCALES, SOURCE_LOCALE, catalog

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "de"  # the complete catalog the others are measured against


def ids(locale: str) -> set[str]:
    """The message ids of a catalog (a plural message by its singular)."""
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}


def untranslated(locale: str) -> list[str]:
    """Message ids whose translation (or one of its plural forms) is empty."""
    missing = []
    for message in catalog(locale):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def test_every_marked_string_is_in_the_catalogs(tmp_path):
    """``make i18n-extract`` finds nothing the German catalog lacks (code, templates, N_)."""
    pot = tmp_path / "orga.pot"
    config = ["-F", str(ROOT / "babel.cfg")]
    keywords = ["-k", "N_", "-k", "translate:2"]  # as in the Makefile
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", *config, *keywords, "-o", str(pot), "--no-location", str(ROOT)]
    )
    with pot.open("rb") as fh:
        marked = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert len(marked) > 100
    assert sorted(marked - ids(REFERENCE)) == []


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != REFERENCE])
def test_every_catalog_has_every_german_message(locale):
    assert sorted(ids(REFERENCE) - ids(locale)) == []


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != SOURCE_LOCALE])
def test_every_message_is_translated(locale):
    """German and Swedish translate everything; English may leave a translation empty (the
    English message id is shown then)."""
    assert untranslated(locale) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_their_placeholders(locale):
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in catalog(locale).check()
        for error in errors
    ]
    assert problems == []
