"""The segment type of a running orga: a boolean tree over core's and every module's filters.

A segment is ``{"where": <node>}``. A node is a filter (a leaf, keyed by its ``type``) or a
group: ``all`` (every condition in ``of``), ``any`` (at least one), ``not`` (everyone in scope
but ``of``), ``sample`` (a reproducible random sample of ``of``) and ``in_segment`` (the people
of a saved segment). Groups nest. The older list form ``{"filters": [...]}`` (filters joined
in order by their ``op``) is still read: it becomes the equivalent tree on input.
"""

# No ``from __future__ import annotations`` here: the union is built at run time and the
# Structs must see real type objects (the tree's self-reference is the one forward reference,
# resolved through the class attribute ``Node``).

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union

import msgspec

from core.segments.filters import CORE_FILTERS, Op, SegmentFilter

__all__ = [
    "SEGMENT_MARK",
    "AllGroup",
    "AnyGroup",
    "Group",
    "InSegment",
    "NotGroup",
    "RandomSampleItem",
    "SampleGroup",
    "SegmentDefinition",
    "segment_type",
]


class _SegmentMark:
    """Marks a field whose value is a segment definition (see :data:`SegmentDefinition`)."""

    def __repr__(self) -> str:
        return "SEGMENT_MARK"


SEGMENT_MARK = _SegmentMark()

SegmentDefinition = Annotated[dict[str, Any], SEGMENT_MARK]
"""A segment definition in a module's request or response body.

The segment type exists only at run time (core's filters plus every module's), so a module's
Struct holds the definition as plain JSON and reads it with ``core.api.parse_segment(value,
field)``; the OpenAPI document shows the real ``Segment`` schema there
(:class:`core.openapi.SegmentSchema`)."""


Seed = Annotated[int, msgspec.Meta(ge=0, le=2**31)]
Size = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class Group(msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True):
    """Base of the tree's inner nodes (the compiler dispatches on the subclasses below; the
    running deployment's classes add ``of``, typed with its union of filters)."""


class AllGroup(Group):
    """Everyone who matches every node in ``of`` (intersection)."""


class AnyGroup(Group):
    """Everyone who matches at least one node in ``of`` (union)."""


class NotGroup(Group):
    """Everyone in scope who does not match ``of`` (complement)."""


class SampleGroup(Group):
    """A reproducible random sample of ``size`` people of ``of`` (of everyone in scope when
    ``of`` is left out); another ``seed`` draws another sample."""

    size: Size
    seed: Seed = 0


class InSegment(Group, tag="in_segment"):
    """The people of saved segment ``segment_id`` (of this unit or one above it), evaluated
    now: a change to that segment changes every segment that includes it."""

    segment_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class RandomSampleItem(
    msgspec.Struct, tag="random_sample", tag_field="type", kw_only=True, forbid_unknown_fields=True
):
    """List form only: keep a reproducible sample of ``size`` people of the set so far (of
    everyone in scope when it comes first; ``op`` ignored). A tree uses ``sample``."""

    size: Size
    seed: Seed = 0
    op: Op | msgspec.UnsetType = msgspec.UNSET


_GROUP_TAGS = ("all", "any", "not", "sample", "in_segment", "random_sample")
_MAX_OF = 50


def segment_type(module_filters: Iterable[type[SegmentFilter]]) -> type[msgspec.Struct]:
    """The ``Segment`` Struct whose nodes are the groups and the tagged union of all filters.

    Raises:
        ValueError: when two filters (or a filter and a group) share a ``type`` tag.
    """
    filters = [*CORE_FILTERS, *module_filters]
    tags: dict[str, type] = {}
    for item in filters:
        tag = item.__struct_config__.tag
        if tag in tags or tag in _GROUP_TAGS:
            raise ValueError(f"segment filter type '{tag}' is defined twice")
        tags[tag] = item

    class SegmentAll(AllGroup, tag="all"):
        """Everyone who matches every node in ``of`` (intersection)."""

        of: Annotated[list["Node"], msgspec.Meta(min_length=1, max_length=_MAX_OF)]  # noqa: F821

    class SegmentAny(AnyGroup, tag="any"):
        """Everyone who matches at least one node in ``of`` (union)."""

        of: Annotated[list["Node"], msgspec.Meta(min_length=1, max_length=_MAX_OF)]  # noqa: F821

    class SegmentNot(NotGroup, tag="not"):
        """Everyone in scope who does not match ``of`` (complement)."""

        of: "Node"  # noqa: F821

    class SegmentSample(SampleGroup, tag="sample"):
        """A reproducible random sample of ``size`` people of ``of`` (of everyone in scope
        when ``of`` is left out); another ``seed`` draws another sample."""

        of: Union["Node", None] = None  # noqa: F821

    node = Union[(SegmentAll, SegmentAny, SegmentNot, SegmentSample, InSegment, *filters)]
    list_item = Union[(*filters, RandomSampleItem)]
    for group in (SegmentAll, SegmentAny, SegmentNot, SegmentSample):
        group.Node = node  # type: ignore[attr-defined]  # resolves the forward references

    def join(kind: type, tree: Any, other: Any) -> Any:
        if isinstance(tree, kind):
            return kind(of=[*tree.of, other])
        return kind(of=[tree, other])

    def from_list(items: Sequence[Any]) -> Any:
        """The tree of the list form: each filter joins the set so far by its ``op``; a first
        ``sub`` means everyone in scope minus its people."""
        tree: Any = None
        for entry in items:
            if isinstance(entry, RandomSampleItem):
                tree = SegmentSample(size=entry.size, seed=entry.seed, of=tree)
                continue
            op, leaf = entry.op, msgspec.structs.replace(entry, op=msgspec.UNSET)
            if op == "sub":
                leaf = SegmentNot(of=leaf)
            if tree is None:
                tree = leaf
            else:
                tree = join(SegmentAny if op in ("add", msgspec.UNSET) else SegmentAll, tree, leaf)
        return tree

    class Segment(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
        """Who: ``where``, a tree of filters and all / any / not / sample / in_segment groups.

        ``filters`` is the older list form (filters joined in order by ``op``: ``add`` union,
        ``sub`` subtract, ``and`` intersect; a first ``sub`` subtracts from everyone in
        scope). It is read and turned into the equivalent ``where``; it is never written.
        """

        where: Union[node, msgspec.UnsetType] = msgspec.UNSET  # noqa: UP007
        filters: Union[  # noqa: UP007
            Annotated[
                list[list_item],
                msgspec.Meta(
                    min_length=1,
                    max_length=_MAX_OF,
                    extra_json_schema={"deprecated": True},
                    description="The older list form; read as the equivalent where.",
                ),
            ],
            msgspec.UnsetType,
        ] = msgspec.UNSET

        def __post_init__(self) -> None:
            if (self.where is msgspec.UNSET) == (self.filters is msgspec.UNSET):
                raise ValueError("give either where (a tree) or filters (the list form)")
            if self.filters is not msgspec.UNSET:
                self.where = from_list(self.filters)
                self.filters = msgspec.UNSET

    for built in (SegmentAll, SegmentAny, SegmentNot, SegmentSample, Segment):
        built.__qualname__ = built.__name__  # schema names without "segment_type.<locals>"
    return Segment
