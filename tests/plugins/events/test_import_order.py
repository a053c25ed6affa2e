"""The events module's files import in one direction: the mails (notify) below the services."""

from __future__ import annotations

import ast
from pathlib import Path

import plugins.events.notify


def test_notify_does_not_import_the_services():
    """notify and services used to import each other (a deferred import hid the circle); both
    now read the event's row from plugins/events/rows.py."""
    tree = ast.parse(Path(plugins.events.notify.__file__).read_text("utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "plugins.events.services" not in imported
    assert "plugins.events.rows" in imported
