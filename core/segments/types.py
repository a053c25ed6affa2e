"""The segment type of a running orga: core filters plus every module's filters."""

# No ``from __future__ import annotations`` here: the union is built at run time and the
# Struct must see real type objects.

from collections.abc import Iterable
from typing import Annotated, Union

import msgspec

from core.segments.filters import CORE_FILTERS, SegmentFilter

__all__ = ["segment_type"]


def segment_type(module_filters: Iterable[type[SegmentFilter]]) -> type[msgspec.Struct]:
    """A ``{"filters": [...]}`` Struct whose items are the tagged union of all filters.

    Raises:
        ValueError: when two filters share a ``type`` tag.
    """
    filters = [*CORE_FILTERS, *module_filters]
    tags: dict[str, type] = {}
    for item in filters:
        tag = item.__struct_config__.tag
        if tag in tags:
            raise ValueError(f"segment filter type '{tag}' is defined twice")
        tags[tag] = item
    FilterUnion = Union[tuple(filters)]  # noqa: UP007 - built at run time

    class Segment(msgspec.Struct, forbid_unknown_fields=True):
        """Filters applied in order: add = union, sub = subtract, and = intersect."""

        filters: Annotated[list[FilterUnion], msgspec.Meta(min_length=1, max_length=50)]

    return Segment
