"""What a module gives the console: its pages and menu entries (build time), cards and call
card sections (runtime).

Declarative like Wagtail's ``MenuItem``: core builds the menu from every module's entries and
shows each one where the module is on for the unit and the user holds its permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = ["CallField", "CallForm", "CallSection", "Card", "ConsolePages", "MenuItem"]


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


class CallField(msgspec.Struct, frozen=True, kw_only=True):
    """One input of a call card form (:class:`CallForm`), drawn by the calling module.

    Attributes:
        name: the form field's name.
        label: already translated.
        kind: ``checkbox`` (sends ``value`` when ticked), ``text``, or ``hidden``.
        value: the value sent (checkbox) or shown (text, hidden).
        checked: a ticked checkbox.
    """

    name: str
    label: str = ""
    kind: str = "checkbox"
    value: str = ""
    checked: bool = False


class CallForm(msgspec.Struct, frozen=True, kw_only=True):
    """A form in a call card section: it posts to ``action`` (the module's own console
    handler) with the CSRF token, the ``grant`` (see :func:`core.api.read_call_grant`) and
    ``return_to`` (the call screen) added by the calling module.

    Attributes:
        action: the address it posts to, e.g. ``/app/orgs/{org_id}/events/call-card/signup``.
        submit: the button's label (already translated).
        fields: the inputs, in order.
        text: a line before the inputs (already translated), e.g. an event's date and place.
    """

    action: str
    submit: str
    fields: Sequence[CallField] = ()
    text: str = ""


class CallSection(msgspec.Struct, frozen=True, kw_only=True):
    """A section a module adds to the call screen (hook ``call_card_sections``).

    Attributes:
        title: already translated heading.
        lines: facts shown as a list (already translated), e.g. events the person attended.
        forms: what the caller can do during the call.
        order: position, lowest first.
    """

    title: str
    lines: Sequence[str] = ()
    forms: Sequence[CallForm] = ()
    order: int = 100
