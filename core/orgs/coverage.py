"""The rules of postal-code coverage, checked before any coverage changes.

1. A unit covers only codes inside its parent's coverage. The root covers all; a unit that
   lists no codes passes its parent's coverage on (so a level can be inserted without listing
   the codes twice).
2. No unit covers a code that a unit of another branch (neither above nor below it) covers.
3. A change moves codes between the unit and the unit above that answered for them until now
   (or will answer for them from now on): the actor needs ``orgs.manage`` on that unit, the
   common ancestor of the two. A district admin can so hand their district's codes to the
   units below it, but cannot take codes from the state, let alone from other states.

Codes compare as text within one length (see :mod:`core.orgs.postcodes`); :class:`CodeSet`
does the set arithmetic on ranges without listing codes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from core import db
from core.audit.services import record
from core.orgs.postcodes import format_entry, parse_entries, set_postcodes
from core.problems import N_, FieldError, Problem, conflict, invalid

if TYPE_CHECKING:
    from core.auth.actor import Actor

__all__ = ["CodeSet", "change_coverage", "check_move", "set_coverage_as"]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_UP = dict(pairwise(_ALPHABET))
_DOWN = {high: low for low, high in _UP.items()}
FIELD = "postal_codes"


def _step(code: str, table: dict[str, str], wrap: str) -> str | None:
    """The neighbouring code of the same length in ``table``'s direction, ``None`` past the
    end."""
    chars = list(code)
    for i in range(len(chars) - 1, -1, -1):
        if chars[i] in table:
            chars[i] = table[chars[i]]
            return "".join(chars)
        chars[i] = wrap
    return None


def _next(code: str) -> str | None:
    return _step(code, _UP, _ALPHABET[0])


def _previous(code: str) -> str | None:
    return _step(code, _DOWN, _ALPHABET[-1])


class CodeSet:
    """A set of postal codes as sorted, disjoint, non-adjacent ranges per code length."""

    def __init__(self, ranges: Iterable[tuple[str, str]] = ()) -> None:
        per_length: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for low, high in sorted(ranges, key=lambda r: (len(r[0]), r)):
            merged = per_length[len(low)]
            if merged:
                last_low, last_high = merged[-1]
                after = _next(last_high)
                if after is None or low <= after:  # overlapping or adjacent
                    merged[-1] = (last_low, max(last_high, high))
                    continue
            merged.append((low, high))
        self._ranges = dict(per_length)

    def ranges(self) -> Iterator[tuple[str, str]]:
        """The ranges, shortest codes first, each length in order."""
        for length in sorted(self._ranges):
            yield from self._ranges[length]

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __and__(self, other: CodeSet) -> CodeSet:
        pieces = []
        for length, mine in self._ranges.items():
            theirs = other._ranges.get(length, [])
            i = j = 0
            while i < len(mine) and j < len(theirs):
                low, high = max(mine[i][0], theirs[j][0]), min(mine[i][1], theirs[j][1])
                if low <= high:
                    pieces.append((low, high))
                if mine[i][1] < theirs[j][1]:
                    i += 1
                else:
                    j += 1
        return CodeSet(pieces)

    def __sub__(self, other: CodeSet) -> CodeSet:
        pieces = []
        for length, mine in self._ranges.items():
            theirs = other._ranges.get(length, [])
            highs = [high for _, high in theirs]
            for low, high in mine:
                start: str | None = low
                for k in range(bisect_left(highs, low), len(theirs)):
                    cut_low, cut_high = theirs[k]
                    if start is None or cut_low > high:
                        break
                    before = _previous(cut_low) if cut_low > start else None
                    if before is not None:
                        pieces.append((start, before))
                    start = _next(cut_high) if cut_high < high else None
                if start is not None:
                    pieces.append((start, high))
        return CodeSet(pieces)

    def __or__(self, other: CodeSet) -> CodeSet:
        return CodeSet([*self.ranges(), *other.ranges()])

    def first(self) -> str:
        """The first range as the API writes it (for messages)."""
        return format_entry(*next(self.ranges()))


@dataclass
class _Tree:
    """Every unit's parent, name and path, and the coverage each unit lists."""

    parent: dict[int, int | None]
    name: dict[int, str]
    path: dict[int, str]
    codes: dict[int, CodeSet]

    @classmethod
    async def load(cls) -> _Tree:
        units = await db.fetch("SELECT id, parent_id, name, path FROM org_unit")
        per_unit: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row in await db.fetch("SELECT org_id, code_from, code_to FROM org_postcode"):
            per_unit[row["org_id"]].append((row["code_from"], row["code_to"]))
        return cls(
            parent={u["id"]: u["parent_id"] for u in units},
            name={u["id"]: u["name"] for u in units},
            path={u["id"]: u["path"] for u in units},
            codes={uid: CodeSet(ranges) for uid, ranges in per_unit.items()},
        )

    def ancestors(self, unit: int) -> list[int]:
        """The units above ``unit``, nearest first."""
        found = []
        above = self.parent[unit]
        while above is not None:
            found.append(above)
            above = self.parent[above]
        return found

    def subtree(self, unit: int) -> set[int]:
        """``unit`` and every unit below it."""
        children: dict[int | None, list[int]] = defaultdict(list)
        for child, parent in self.parent.items():
            children[parent].append(child)
        found, todo = set(), [unit]
        while todo:
            current = todo.pop()
            found.add(current)
            todo += children[current]
        return found

    def coverage(self, unit: int) -> CodeSet | None:
        """What ``unit`` passes on to the units below it; ``None`` is everything (a root)."""
        current: int | None = unit
        while current is not None:
            if self.parent[current] is None:
                return None
            if self.codes.get(current):
                return self.codes[current]
            current = self.parent[current]
        return None

    def outside_parent(self, unit: int) -> CodeSet:
        """The codes of ``unit`` its parent's coverage lacks (rule 1)."""
        above = self.parent[unit]
        covered = None if above is None else self.coverage(above)
        mine = self.codes.get(unit, CodeSet())
        return CodeSet() if covered is None else mine - covered

    def other_branch_overlap(self, top: int, codes: CodeSet) -> tuple[int, CodeSet] | None:
        """A unit of another branch than ``top`` (neither above nor below it) and the part of
        ``codes`` it covers (rule 2)."""
        line = self.subtree(top) | set(self.ancestors(top))
        for other in sorted(self.codes):
            if other not in line:
                shared = codes & self.codes[other]
                if shared:
                    return other, shared
        return None


def _named(tree: _Tree, unit: int, actor: Actor | None) -> str | None:
    """The unit's name when the actor may see it."""
    if actor is None or actor.sees(tree.path[unit]):
        return tree.name[unit]
    return None


def _check_rules(tree: _Tree, changed: Iterable[int], actor: Actor | None) -> None:
    """Rules 1 and 2 for the changed units, rule 1 also for the units below them."""
    for unit in changed:
        outside = tree.outside_parent(unit)
        if outside:
            raise invalid(
                FIELD,
                N_("'%(code)s' lies outside the coverage of the unit above"),
                code=outside.first(),
            )
        for below in sorted(tree.subtree(unit) - {unit}):
            lost = tree.outside_parent(below)
            if lost:
                raise invalid(
                    FIELD,
                    N_("'%(code)s' is still covered by '%(unit)s' below; change that unit first"),
                    code=lost.first(),
                    unit=tree.name[below],  # below the changed unit: the actor sees it
                )
        overlap = tree.other_branch_overlap(unit, tree.codes.get(unit, CodeSet()))
        if overlap is not None:
            other, shared = overlap
            name = _named(tree, other, actor)
            if name is None:
                raise conflict(
                    N_("'%(code)s' is already covered by a unit of another branch"),
                    field=FIELD,
                    code=shared.first(),
                )
            raise conflict(
                N_("'%(code)s' is already covered by '%(unit)s'"),
                field=FIELD,
                code=shared.first(),
                unit=name,
            )


def _check_moves(tree: _Tree, unit: int, before: CodeSet, actor: Actor) -> None:
    """Rule 3: codes that change hands move between ``unit`` and the nearest unit above that
    lists them (the root answers for the rest); the actor needs ``orgs.manage`` there."""
    after = tree.codes.get(unit, CodeSet())
    moving = (after - before) | (before - after)
    for above in tree.ancestors(unit):
        if not moving:
            return
        part = moving if tree.parent[above] is None else moving & tree.codes.get(above, CodeSet())
        if part and not actor.can("orgs.manage", tree.path[above]):
            message = N_(
                "'%(code)s' would move between this unit and '%(unit)s'; that needs the "
                "permission 'orgs.manage' on '%(unit)s'."
            )
            raise Problem(
                403,
                "coverage-move-forbidden",
                message,
                title=N_("Permission denied"),
                errors=[FieldError(FIELD, message)],
                values={"code": part.first(), "unit": tree.name[above]},
            )
        moving = moving - part


async def _lock() -> None:
    """Coverage changes one at a time (SQLite's write transactions are serialized anyway)."""
    if db.is_postgres():
        await db.execute("LOCK TABLE org_postcode IN SHARE ROW EXCLUSIVE MODE")


async def change_coverage(changes: dict[int, list[tuple[str, str]]], actor: Actor | None) -> None:
    """Replace the coverage of the units in ``changes`` after checking the rules against the
    state they leave behind; ``actor`` ``None`` is the operator (no rule 3).

    Raises:
        Problem: 422 naming ``postal_codes`` for codes outside the coverage above or still
            covered below, 409 for codes another branch covers, 403 ``coverage-move-forbidden``
            when codes would move without ``orgs.manage`` on the unit above that gives or
            takes them.
    """
    async with db.transaction():
        await _lock()
        tree = await _Tree.load()
        before = {unit: tree.codes.get(unit, CodeSet()) for unit in changes}
        for unit, ranges in changes.items():
            tree.codes[unit] = CodeSet(ranges)
        _check_rules(tree, changes, actor)
        if actor is not None:
            for unit in changes:
                _check_moves(tree, unit, before[unit], actor)
        for unit, ranges in changes.items():
            await set_postcodes(unit, ranges)


async def set_coverage_as(actor: Actor, org_id: int, entries: list[str]) -> None:
    """Replace the coverage of a unit with ``entries`` (codes ``04109`` and ranges
    ``04103-04107``) as the actor, by the rules above (audited ``org.postcodes_set``).

    Raises:
        Problem: as :func:`change_coverage`, and 422 naming ``postal_codes`` for an entry that
            cannot be read.
    """
    ranges = parse_entries(entries, FIELD)
    await change_coverage({org_id: ranges}, actor)
    await record(
        "org.postcodes_set",
        object_type="org_unit",
        object_id=org_id,
        org_id=org_id,
        detail={"entries": len(ranges)},
    )


async def check_move(unit: int, new_parent: int) -> None:
    """Refuse a move that would put coverage outside the new parent's, or next to another
    branch's (inside the caller's transaction).

    Raises:
        Problem: 422 naming ``parent_id``.
    """
    await _lock()
    tree = await _Tree.load()
    tree.parent[unit] = new_parent
    moved = tree.subtree(unit)
    if any(tree.outside_parent(below) for below in moved):
        raise invalid(
            "parent_id", N_("the unit's postal codes lie outside the new parent's coverage")
        )
    codes = CodeSet([r for below in moved for r in tree.codes.get(below, CodeSet()).ranges()])
    overlap = tree.other_branch_overlap(unit, codes)
    if overlap is not None:
        raise invalid(
            "parent_id",
            N_("the unit's postal code '%(code)s' would overlap another branch"),
            code=overlap[1].first(),
        )
