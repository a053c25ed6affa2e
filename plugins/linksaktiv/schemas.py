"""Request and response bodies of the linksaktiv module."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

__all__ = ["EditionIn", "EditionOut"]


class EditionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A newspaper edition."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    date: date
    copies: Annotated[int, msgspec.Meta(ge=1)]
    bundle_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 50


class EditionOut(msgspec.Struct):
    """A newspaper edition of a unit."""

    id: int
    org_id: int
    title: str
    date: date
    copies: int
    bundle_size: int
