"""Segment filters: msgspec tagged-union members keyed by ``type``, each a SQL predicate.

A filter renders a predicate on the person alias ``p``. Filters apply in order: ``add`` is a
union (OR), ``sub`` subtracts (AND NOT), ``and`` intersects (AND); the first filter's ``op`` is
ignored. Modules subclass :class:`SegmentFilter` (``class CalledIn(SegmentFilter,
tag="called")``) and return the classes from ``register_segment_filters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.people.consent import contactable_sql

__all__ = [
    "CORE_FILTERS",
    "ConsentFilter",
    "CreatedFilter",
    "CustomFieldFilter",
    "FilterContext",
    "HasEmailFilter",
    "HasPhoneFilter",
    "MemberStatusFilter",
    "OrgFilter",
    "PostalCodeFilter",
    "RandomSampleFilter",
    "SegmentFilter",
    "SourceFilter",
    "TagFilter",
    "UpdatedFilter",
]

Op = Literal["add", "sub", "and"]
Names = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]],
    msgspec.Meta(min_length=1, max_length=100),
]


@dataclass(frozen=True)
class FilterContext:
    """What a filter may need to render itself: the database flavour, and the unit ids below
    each unit an org filter names (resolved by the compiler beforehand)."""

    postgres: bool
    subtrees: dict[int, list[int]] = field(default_factory=dict)


class SegmentFilter(msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True):
    """Base of every filter. Subclasses set ``tag=`` and implement :meth:`predicate`."""

    op: Op = "add"

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """SQL condition on person alias ``p`` with ``{}`` placeholders, and its arguments."""
        raise NotImplementedError


def _marks(values: list[Any]) -> str:
    return ", ".join(["{}"] * len(values))


class OrgFilter(SegmentFilter, tag="org"):
    """People whose home unit is ``org_id`` or below it."""

    org_id: int

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Home unit among the subtree's ids."""
        ids = ctx.subtrees.get(self.org_id, [])
        if not ids:
            return "1 = 0", []
        return f"p.home_org_id IN ({_marks(ids)})", list(ids)


class TagFilter(SegmentFilter, tag="tags"):
    """People with any (or ``all``) of the tag names."""

    tags: Names
    match: Literal["any", "all"] = "any"

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Tag membership by name."""
        names = sorted(set(self.tags))
        inner = (
            "SELECT pt.person_id FROM person_tag pt JOIN tag t ON t.id = pt.tag_id "
            f"WHERE t.name IN ({_marks(names)})"
        )
        if self.match == "all":
            inner += f" GROUP BY pt.person_id HAVING COUNT(DISTINCT t.name) = {len(names)}"
        return f"p.id IN ({inner})", names


class MemberStatusFilter(SegmentFilter, tag="member_status"):
    """People with one of the member statuses."""

    statuses: list[Literal["member", "former_member", "sympathizer", "contact"]]

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Status in the list."""
        return f"p.member_status IN ({_marks(self.statuses)})", list(self.statuses)


class SourceFilter(SegmentFilter, tag="source"):
    """People who came through one of the sources."""

    sources: Names

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Source in the list."""
        return f"p.source IN ({_marks(self.sources)})", list(self.sources)


class ConsentFilter(SegmentFilter, tag="consent"):
    """People who may be contacted on ``channel`` (granted, not do-not-contact)."""

    channel: Literal["email", "phone", "sms", "post"]
    purpose: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,50}$")] = "general"

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Latest consent event granted and no do-not-contact."""
        return contactable_sql(self.channel, "p", self.purpose), []


class HasPhoneFilter(SegmentFilter, tag="has_phone"):
    """People with at least one valid phone number."""

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """A valid phone row exists."""
        return "p.has_phone", []


class HasEmailFilter(SegmentFilter, tag="has_email"):
    """People with an e-mail address."""

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """E-mail set."""
        return "(p.email IS NOT NULL AND p.email <> '')", []


class PostalCodeFilter(SegmentFilter, tag="postal_code"):
    """People whose postal code starts with one of ``prefixes`` or equals one of ``codes``."""

    prefixes: list[Annotated[str, msgspec.Meta(min_length=1, max_length=20)]] = []
    codes: list[Annotated[str, msgspec.Meta(min_length=1, max_length=20)]] = []

    def __post_init__(self) -> None:
        if not self.prefixes and not self.codes:
            raise ValueError("give prefixes or codes")

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Prefix or exact match."""
        parts, args = [], []
        for prefix in self.prefixes:
            parts.append("substr(p.postal_code, 1, {}) = {}")
            args += [len(prefix), prefix]
        if self.codes:
            parts.append(f"p.postal_code IN ({_marks(self.codes)})")
            args += list(self.codes)
        return "(" + " OR ".join(parts) + ")", args


class _RangeFilter(SegmentFilter):
    after: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    before: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    column = "created_at"

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Timestamp in ``[after, before)``."""
        parts, args = ["1 = 1"], []
        if self.after is not None:
            parts.append(f"p.{self.column} >= {{}}")
            args.append(self.after)
        if self.before is not None:
            parts.append(f"p.{self.column} < {{}}")
            args.append(self.before)
        return "(" + " AND ".join(parts) + ")", args


class CreatedFilter(_RangeFilter, tag="created"):
    """People created in ``[after, before)``."""


class UpdatedFilter(_RangeFilter, tag="updated"):
    """People changed in ``[after, before)``."""

    column = "updated_at"


class CustomFieldFilter(SegmentFilter, tag="custom_field"):
    """People whose custom field ``key`` equals ``value``."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
    value: str | int | float | bool

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """JSON value equality (type and value)."""
        if ctx.postgres:
            return (
                f"(p.custom_fields::jsonb -> '{self.key}') = CAST({{}} AS jsonb)",
                [msgspec.json.encode(self.value).decode()],
            )
        value = int(self.value) if isinstance(self.value, bool) else self.value
        type_check = (
            "IN ('true', 'false')"
            if isinstance(self.value, bool)
            else "= 'text'"
            if isinstance(self.value, str)
            else "IN ('integer', 'real')"
        )
        return (
            f"(json_type(p.custom_fields, '$.{self.key}') {type_check} AND "
            f"json_extract(p.custom_fields, '$.{self.key}') = {{}})",
            [value],
        )


class RandomSampleFilter(SegmentFilter, tag="random_sample"):
    """Keep a reproducible random sample of ``size`` people of the set so far (``op`` ignored)."""

    size: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**31)] = 0

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Handled by the compiler, which wraps the set so far."""
        raise NotImplementedError


CORE_FILTERS: tuple[type[SegmentFilter], ...] = (
    OrgFilter,
    TagFilter,
    MemberStatusFilter,
    SourceFilter,
    ConsentFilter,
    HasPhoneFilter,
    HasEmailFilter,
    PostalCodeFilter,
    CreatedFilter,
    UpdatedFilter,
    CustomFieldFilter,
    RandomSampleFilter,
)
