"""What a module gives the console: its pages and menu entries (build time), cards (runtime).

Declarative like Wagtail's ``MenuItem``: core builds the menu from every module's entries and
shows each one where the module is on for the unit and the user holds its permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = ["Card", "ConsolePages", "MenuItem"]


class MenuItem(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a unit's menu.

    Attributes:
        label: the text, an English message id (translated when the menu is drawn).
        path: below the module's prefix: ``/app/orgs/{org_id}/<module>/<path>`` (core's own
            entries: ``/app/orgs/{org_id}/<path>``); ``""`` for the prefix itself.
        permission: shown only to users holding it on the unit (``None``: everyone there; a
            tuple: holding any one of them).
        order: position in the menu, lowest first.
        description: a line under the label where entries are listed with an explanation (the
            unit's administration page); an English message id like ``label``.
    """

    label: str
    path: str = ""
    permission: str | tuple[str, ...] | None = None
    order: int = 100
    description: str | None = None


class ConsolePages(msgspec.Struct, frozen=True, kw_only=True):
    """Page handlers and menu entries a module contributes (``register_pages``).

    Attributes:
        handlers: Litestar handlers mounted under ``/app/orgs/{org_id}/<module>`` behind the
            console's guards: session cookie → unit visible → module enabled → CSRF on every
            unsafe request. Add ``guards=[requires("…")]`` per handler as on the API.
        menu: the module's menu entries.
        admin: entries on the unit's administration page (``/app/orgs/{org_id}/admin``) for
            the module's settings pages, e.g. a sender identity; shown like menu entries (module
            on, permission held) to the users who open that page.
    """

    handlers: Sequence[Any] = ()
    menu: Sequence[MenuItem] = ()
    admin: Sequence[MenuItem] = ()


class Card(msgspec.Struct, frozen=True, kw_only=True):
    """A card on a unit's start page (``unit_cards``).

    Attributes:
        title: already translated heading.
        value: the figure (a number, formatted for the page's language) or short text shown
            large (``None``: none).
        text: a line under it.
        progress: how far something got, 0 to 1, drawn as a bar (``None``: no bar).
        link: where the card leads (a console page; ``None`` while the module has none).
        attention: something needs doing (drawn highlighted).
        order: position, lowest first.
    """

    title: str
    value: str | int | None = None
    text: str | None = None
    progress: float | None = None
    link: str | None = None
    attention: bool = False
    order: int = 100
