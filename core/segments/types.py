"""The segment type of a running orga: core filters plus every module's filters."""

# No ``from __future__ import annotations`` here: the union is built at run time and the
# Struct must see real type objects.

from collections.abc import Iterable
from typing import Annotated, Any, Union

import msgspec

from core.segments.filters import CORE_FILTERS, SegmentFilter

__all__ = ["SEGMENT_MARK", "SegmentDefinition", "segment_type"]


class _SegmentMark:
    """Marks a field whose value is a segment definition (see :data:`SegmentDefinition`)."""

    def __repr__(self) -> str:
        return "SEGMENT_MARK"


SEGMENT_MARK = _SegmentMark()

SegmentDefinition = Annotated[dict[str, Any], SEGMENT_MARK]
"""A segment definition in a module's request or response body.

The segment type exists only at run time (core's filters plus every module's), so a module's
Struct holds the definition as plain JSON and checks it with ``msgspec.convert(value,
current_runtime().segment)``; the OpenAPI document shows the real ``Segment`` schema there
(:class:`core.openapi.SegmentSchema`)."""


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
