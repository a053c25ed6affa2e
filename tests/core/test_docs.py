"""Docs are part of the product: every hook has a reference entry."""

from __future__ import annotations

import inspect
from pathlib import Path

from core.hookspecs import OrgaSpec

ROOT = Path(__file__).resolve().parents[2]


def hook_names() -> list[str]:
    return [
        name
        for name, member in inspect.getmembers(OrgaSpec)
        if callable(member) and not name.startswith("_")
    ]


def test_every_hook_has_a_reference_entry():
    text = (ROOT / "docs" / "plugins.md").read_text()
    missing = [name for name in hook_names() if f"### `{name}`" not in text]
    assert hook_names(), "no hooks found"
    assert missing == []


def test_every_hook_has_a_docstring():
    assert [n for n in hook_names() if not inspect.getdoc(getattr(OrgaSpec, n))] == []
