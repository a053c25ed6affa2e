"""Segment filters: the leaves of a segment's tree, msgspec tagged-union members keyed by
``type``, each a SQL predicate on the person alias ``p``.

The tree's groups (all / any / not, samples, saved segments) live in :mod:`core.segments.types`.
Modules subclass :class:`SegmentFilter` (``class CalledIn(SegmentFilter, tag="called")``), or
:class:`ActivityFilter` for "at least N activities in a period", and return the classes from
``register_segment_filters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from core.people.consent import contactable_sql, withdrawn_sql
from core.problems import N_
from core.tables import utcnow

__all__ = [
    "CORE_FILTERS",
    "ActivityFilter",
    "CallBlockedFilter",
    "ConsentFilter",
    "CreatedFilter",
    "CustomFieldFilter",
    "FilterContext",
    "HasEmailFilter",
    "HasPhoneFilter",
    "MemberStatusFilter",
    "OrgFilter",
    "PostalCodeFilter",
    "SegmentFilter",
    "SourceFilter",
    "TagFilter",
    "TextFilter",
    "UpdatedFilter",
]

Op = Literal["add", "sub", "and"]
Names = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]],
    msgspec.Meta(min_length=1, max_length=100),
]


AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


@dataclass(frozen=True)
class FilterContext:
    """What a filter may need to render itself: the database flavour, the unit ids below each
    unit an org filter names (resolved by the compiler beforehand), and the time the segment
    is evaluated at (for periods such as "the last 30 days")."""

    postgres: bool
    subtrees: dict[int, list[int]] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)

    def lower(self, column: str) -> str:
        """``column`` lower-cased in SQL, Unicode-aware on SQLite too (``orga_lower``, a
        Python function every SQLite connection registers; SQLite's own ``lower`` folds ASCII
        only). On PostgreSQL ``lower`` follows the database's ``LC_CTYPE``."""
        return f"lower({column})" if self.postgres else f"orga_lower({column})"


class SegmentFilter(msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True):
    """Base of every filter. Subclasses set ``tag=`` and implement :meth:`predicate`.

    ``op`` belongs to the older list form of a segment (``filters``) only: how the filter joins
    the ones before it (``add`` union, ``sub`` subtract, ``and`` intersect). A tree (``where``)
    says that with all / any / not groups and rejects ``op``.

    What the console's segment builder shows (catalog messages marked ``N_``, translated per
    page): ``label`` names the filter type (default: its ``type`` tag), ``field_labels`` each
    field and ``option_labels`` each value of a ``Literal`` field (both merged along the base
    classes; a missing label shows the name itself).
    """

    op: Op | msgspec.UnsetType = msgspec.UNSET

    label = ""
    field_labels: ClassVar[dict[str, str]] = {}
    option_labels: ClassVar[dict[str, str]] = {}

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """SQL condition on person alias ``p`` with ``{}`` placeholders, and its arguments."""
        raise NotImplementedError


def _marks(values: list[Any]) -> str:
    return ", ".join(["{}"] * len(values))


class OrgFilter(SegmentFilter, tag="org"):
    """People whose home unit is ``org_id`` or below it."""

    label = N_("Unit and its subunits")
    field_labels: ClassVar[dict[str, str]] = {"org_id": N_("Unit (id)")}

    org_id: int

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Home unit among the subtree's ids."""
        ids = ctx.subtrees.get(self.org_id, [])
        if not ids:
            return "1 = 0", []
        return f"p.home_org_id IN ({_marks(ids)})", list(ids)


class TagFilter(SegmentFilter, tag="tags"):
    """People with any (or ``all``) of the tag names."""

    label = N_("Tags")
    field_labels: ClassVar[dict[str, str]] = {"tags": N_("Tags"), "match": N_("Match")}
    option_labels: ClassVar[dict[str, str]] = {"any": N_("any of them"), "all": N_("all of them")}

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

    label = N_("Member status")
    field_labels: ClassVar[dict[str, str]] = {"statuses": N_("Member status")}
    option_labels: ClassVar[dict[str, str]] = {
        "member": N_("Member"),
        "former_member": N_("Former member"),
        "sympathizer": N_("Sympathizer"),
        "contact": N_("Contact"),
    }

    statuses: list[Literal["member", "former_member", "sympathizer", "contact"]]

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Status in the list."""
        return f"p.member_status IN ({_marks(self.statuses)})", list(self.statuses)


class SourceFilter(SegmentFilter, tag="source"):
    """People who came through one of the sources."""

    label = N_("Source")
    field_labels: ClassVar[dict[str, str]] = {"sources": N_("Sources")}

    sources: Names

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Source in the list."""
        return f"p.source IN ({_marks(self.sources)})", list(self.sources)


class ConsentFilter(SegmentFilter, tag="consent"):
    """People who may be contacted on ``channel`` (granted, not do-not-contact)."""

    label = N_("May be contacted")
    field_labels: ClassVar[dict[str, str]] = {"channel": N_("Channel"), "purpose": N_("Purpose")}
    option_labels: ClassVar[dict[str, str]] = {
        "email": N_("E-mail"),
        "phone": N_("Phone calls"),
        "sms": N_("SMS"),
        "post": N_("Post"),
    }

    channel: Literal["email", "phone", "sms", "post"]
    purpose: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,50}$")] = "general"

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Latest consent event granted and no do-not-contact."""
        return contactable_sql(self.channel, "p", self.purpose), []


class HasPhoneFilter(SegmentFilter, tag="has_phone"):
    """People with at least one valid phone number."""

    label = N_("Has a phone number")

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """A valid phone row exists."""
        return "p.has_phone", []


class HasEmailFilter(SegmentFilter, tag="has_email"):
    """People with an e-mail address."""

    label = N_("Has an e-mail address")

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """E-mail set (``person.has_email``, generated by the database)."""
        return "p.has_email", []


class PostalCodeFilter(SegmentFilter, tag="postal_code"):
    """People whose postal code starts with one of ``prefixes`` or equals one of ``codes``."""

    label = N_("Postal code")
    field_labels: ClassVar[dict[str, str]] = {
        "prefixes": N_("Starts with"),
        "codes": N_("Exactly"),
    }

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
    field_labels: ClassVar[dict[str, str]] = {
        "after": N_("From (date)"),
        "before": N_("Before (date)"),
    }

    after: AwareDatetime | None = None
    before: AwareDatetime | None = None
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

    label = N_("Created")


class UpdatedFilter(_RangeFilter, tag="updated"):
    """People changed in ``[after, before)``."""

    label = N_("Changed")
    column = "updated_at"


class CustomFieldFilter(SegmentFilter, tag="custom_field"):
    """People whose custom field ``key`` equals ``value``."""

    label = N_("Custom field")
    field_labels: ClassVar[dict[str, str]] = {"key": N_("Field key"), "value": N_("Value")}

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


def _like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``, with ``%``, ``_`` and ``\\`` in ``text`` matched
    literally (both databases honour the same ESCAPE clause)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class TextFilter(SegmentFilter, tag="text"):
    """People whose name, e-mail address or city contains ``contains``, ignoring case and
    repeated spaces (a substring anywhere: "mül" finds Müller, "anna mü" Anna Müller).

    ``fields`` narrows where to look: ``name`` (first and last name, either order), ``email``,
    ``city``.
    """

    label = N_("Text contains")
    field_labels: ClassVar[dict[str, str]] = {"contains": N_("Contains"), "fields": N_("Look in")}
    option_labels: ClassVar[dict[str, str]] = {
        "name": N_("Name"),
        "email": N_("E-mail address"),
        "city": N_("City"),
    }

    contains: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    fields: Annotated[
        list[Literal["name", "email", "city"]], msgspec.Meta(min_length=1, max_length=3)
    ] = msgspec.field(default_factory=lambda: ["name", "email", "city"])

    def __post_init__(self) -> None:
        if not self.contains.strip():
            raise ValueError("contains must not be blank")
        if any(ord(ch) < 32 for ch in self.contains):
            raise ValueError("contains must not hold control characters")

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Case-insensitive ``LIKE '%…%'`` on the lower-cased name keys, e-mail and city.

        Names use ``first_key``/``last_key`` ("first last", "last first", lower-cased in
        Python when the name is stored), so the search is Unicode-aware on both databases."""
        pattern = _like_pattern(" ".join(self.contains.lower().split()))
        columns: list[str] = []
        for name in dict.fromkeys(self.fields):
            if name == "name":
                columns += ["p.first_key", "p.last_key"]
            elif name == "email":
                columns.append(ctx.lower("p.email"))
            else:
                columns.append(ctx.lower("p.city"))
        parts = [f"{column} LIKE {{}} ESCAPE '\\'" for column in columns]
        return "(" + " OR ".join(parts) + ")", [pattern] * len(parts)


class CallBlockedFilter(SegmentFilter, tag="call_blocked"):
    """People who may not be called for any of ``reasons``: ``no_number`` (no valid phone
    number), ``do_not_contact`` (blocked on every channel), ``phone_withdrawn`` (phone
    consent withdrawn). These are the person's own reasons, the ones every call queue
    honours; the calling module adds the queue's (reserved, cooldown, call back)."""

    label = N_("May not be called")
    field_labels: ClassVar[dict[str, str]] = {"reasons": N_("Reasons")}
    option_labels: ClassVar[dict[str, str]] = {
        "no_number": N_("no valid phone number"),
        "do_not_contact": N_("do not contact"),
        "phone_withdrawn": N_("phone consent withdrawn"),
    }

    reasons: Annotated[
        list[Literal["no_number", "do_not_contact", "phone_withdrawn"]],
        msgspec.Meta(min_length=1, max_length=3),
    ] = msgspec.field(default_factory=lambda: ["no_number", "do_not_contact", "phone_withdrawn"])

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Any of the reasons' conditions."""
        sql = {
            "no_number": "NOT p.has_phone",
            "do_not_contact": "p.do_not_contact",
            "phone_withdrawn": withdrawn_sql("phone"),
        }
        return "(" + " OR ".join(sql[r] for r in dict.fromkeys(self.reasons)) + ")", []


class ActivityFilter(SegmentFilter):
    """Base of "most active" filters: people with at least ``at_least`` activities in the
    period, ``[after, before)`` or the last ``days`` days (counted back from when the segment
    is evaluated, so a saved segment stays current). Without a period every activity counts.

    Subclasses (a module's ``calling_activity``, ``event_activity``, …) implement
    :meth:`activities`.
    """

    field_labels: ClassVar[dict[str, str]] = {
        "at_least": N_("At least (number)"),
        "days": N_("In the last … days"),
        "after": N_("From (date)"),
        "before": N_("Before (date)"),
    }

    at_least: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1
    days: Annotated[int, msgspec.Meta(ge=1, le=3660)] | None = None
    after: AwareDatetime | None = None
    before: AwareDatetime | None = None

    def __post_init__(self) -> None:
        if self.days is not None and self.after is not None:
            raise ValueError("give days or after, not both")

    def activities(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """A ``SELECT`` of one row per activity with the columns ``person_id`` and ``at``."""
        raise NotImplementedError

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """``p.id IN`` the people with enough activities in the period (one grouped query)."""
        rows, args = self.activities(ctx)
        after = self.after
        if self.days is not None:
            after = ctx.now - timedelta(days=self.days)
        conditions = ["a.person_id IS NOT NULL"]
        for op, value in ((">=", after), ("<", self.before)):
            if value is not None:
                conditions.append(f"a.at {op} {{}}")
                args = [*args, value]
        return (
            f"p.id IN (SELECT a.person_id FROM ({rows}) a WHERE {' AND '.join(conditions)} "
            "GROUP BY a.person_id HAVING COUNT(*) >= {})",
            [*args, self.at_least],
        )


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
    TextFilter,
    CallBlockedFilter,
)
