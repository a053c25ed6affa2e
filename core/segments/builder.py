"""The console's segment builder: a segment as plain GET form fields, so it works without
JavaScript and its address can be bookmarked.

The tree lives in the query string under the root ``w`` (another root, e.g. ``target``,
lets one form hold several builders: :func:`parse_builder` takes it). A node's path is its
place in the tree (``w``, ``w.0``, ``w.0.2``); the field named by the path holds its kind (``all``,
``any``, ``not`` or a filter's ``type`` tag) and ``<path>.<field>`` its inputs, e.g.::

    w=all & w.0=tags & w.0.tags=Infostand & w.1=not & w.1.0=has_email

The inputs of each filter type are generated from its Struct's fields (text, numbers, dates,
choices, lists). :func:`segment_data` turns the tree into a ``Segment`` definition (JSON data)
for the same services as the JSON API (:func:`core.segments.compiler.parse_segment`,
:func:`~core.segments.compiler.count_and_sample`, …), and :func:`field_errors` maps the field
paths of their problems (``segment.where.of[1].after``) back to the builder's inputs.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec

from core.problems import N_, FieldError, Problem
from core.segments.filters import SegmentFilter

__all__ = [
    "GROUP_LABELS",
    "IN_SEGMENT",
    "ROOT",
    "Builder",
    "FilterSpec",
    "Input",
    "Node",
    "apply_action",
    "builder_from_segment",
    "field_errors",
    "filter_specs",
    "parse_builder",
    "segment_data",
]

ROOT = "w"
SEGMENT_FIELD = "segment"  # the field the definition's problems are named below
GROUP_LABELS = {
    "all": N_("all of these"),
    "any": N_("any of these"),
    "not": N_("none of these"),
}
IN_SEGMENT = "in_segment"
_MAX_NODES = 60  # the API takes 50 per group and 500 in all; a form this big is a mistake
_MAX_DEPTH = 6
_ROOT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
_MISSING = re.compile(r"missing required field `([a-z_][a-z0-9_]*)`")
_HINTS = {
    "list": N_("Separate several with commas."),
    "value": N_("A number, true or false is compared as such; in quotes as text."),
}


@dataclass(frozen=True)
class Input:
    """One input of a filter type, from one field of its Struct.

    ``widget``: ``text``, ``number``, ``date`` (midnight in the deployment's time zone),
    ``select`` (a ``Literal``), ``checks`` (a list of a ``Literal``), ``list`` (comma-separated
    texts or numbers), ``value`` (a scalar of several types) or ``segment`` (a saved segment).
    """

    name: str
    label: str
    widget: str
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    default: tuple[str, ...] = ()
    numbers: bool = False  # a list of integers
    hint: str = ""
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class FilterSpec:
    """A filter type as the builder offers it: its tag, label, inputs and module."""

    tag: str
    label: str
    inputs: tuple[Input, ...]
    module: str = "core"

    @property
    def required(self) -> bool:
        """Whether some input must be filled in."""
        return any(i.required for i in self.inputs)


@dataclass
class Node:
    """A group (``kind`` all / any / not, with ``children``) or a condition (a filter tag or
    ``in_segment``, with the raw texts of its ``values``)."""

    path: str
    kind: str
    values: dict[str, list[str]] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    @property
    def group(self) -> bool:
        """Whether the node is an all / any / not group."""
        return self.kind in GROUP_LABELS

    @property
    def anchor(self) -> str:
        """The node's HTML id (``n-w-0-1``)."""
        return "n-" + self.path.replace(".", "-")

    def value(self, name: str) -> str:
        """The first raw text of input ``name`` ("" when none)."""
        return (self.values.get(name) or [""])[0]

    def filled(self, name: str) -> bool:
        """Whether input ``name`` holds some text."""
        return any(v.strip() for v in self.values.get(name, []))


@dataclass
class Builder:
    """The parsed builder: its root group, and the conditions left out because nothing is
    filled in yet (``pending``, their paths)."""

    root: Node
    pending: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """No condition at all (the page is a plain search)."""
        return not self.root.children

    def params(self) -> list[tuple[str, str]]:
        """The tree as query parameters, children numbered 0, 1, … (the canonical form)."""
        pairs: list[tuple[str, str]] = []

        def walk(node: Node, path: str) -> None:
            pairs.append((path, node.kind))
            for name, values in node.values.items():
                pairs.extend((f"{path}.{name}", v) for v in values)
            for index, child in enumerate(node.children):
                walk(child, f"{path}.{index}")

        walk(self.root, self.root.path)
        return pairs

    def query(self, **extra: str) -> str:
        """``params`` with ``extra`` (non-empty ones first) as a query string."""
        head = [(k, v) for k, v in extra.items() if v]
        return urlencode(head + (self.params() if not self.empty else []))


def _option_order(cls: type, values: Iterable[str]) -> list[str]:
    """A ``Literal``'s values in the order of the class's ``option_labels``, then the rest."""
    labels = _merged(cls, "option_labels")
    values = list(values)
    return [v for v in labels if v in values] + sorted(v for v in values if v not in labels)


def _merged(cls: type, attribute: str) -> dict[str, str]:
    """``attribute`` (a dict) merged along the class's bases, the subclass winning."""
    merged: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        merged.update(vars(base).get(attribute) or {})
    return merged


def _default(spec: msgspec.inspect.Field) -> tuple[str, ...]:
    """A field's default as the raw texts of its input."""
    if spec.default_factory is not msgspec.NODEFAULT:
        value = spec.default_factory()
    elif spec.default is not msgspec.NODEFAULT:
        value = spec.default
    else:
        return ()
    if value is None or value is msgspec.UNSET:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def _input(cls: type, spec: msgspec.inspect.Field) -> Input:
    """The input for one field of filter ``cls``."""
    kind = spec.type
    if isinstance(kind, msgspec.inspect.UnionType):
        types = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        kind = types[0] if len(types) == 1 else kind
    labels = _merged(cls, "option_labels")
    base = {
        "name": spec.name,
        "label": _merged(cls, "field_labels").get(spec.name, spec.name),
        "required": spec.required,
        "default": _default(spec),
    }
    if isinstance(kind, msgspec.inspect.DateTimeType):
        return Input(widget="date", **base)
    if isinstance(kind, msgspec.inspect.IntType):
        return Input(widget="number", minimum=kind.ge, maximum=kind.le, **base)
    if isinstance(kind, msgspec.inspect.LiteralType):
        options = tuple((v, labels.get(v, v)) for v in _option_order(cls, kind.values))
        return Input(widget="select", options=options, **base)
    if isinstance(kind, msgspec.inspect.ListType):
        item = kind.item_type
        if isinstance(item, msgspec.inspect.LiteralType):
            options = tuple((v, labels.get(v, v)) for v in _option_order(cls, item.values))
            return Input(widget="checks", options=options, **base)
        numbers = isinstance(item, msgspec.inspect.IntType)
        return Input(widget="list", numbers=numbers, hint=_HINTS["list"], **base)
    if isinstance(kind, msgspec.inspect.UnionType):
        return Input(widget="value", hint=_HINTS["value"], **base)
    return Input(widget="text", **base)


@cache
def _spec(cls: type[SegmentFilter], module: str) -> FilterSpec:
    """The builder's view of filter type ``cls`` (cached: a type's fields never change)."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    inputs = tuple(_input(cls, f) for f in info.fields if f.name != "op")
    tag = typing.cast(str, cls.__struct_config__.tag)
    return FilterSpec(tag=tag, label=cls.label or tag, inputs=inputs, module=module)


def filter_specs(
    core_filters: Iterable[type[SegmentFilter]], module_filters: Iterable[tuple[str, type]]
) -> dict[str, FilterSpec]:
    """Every filter type the builder offers, by tag: core's, then each module's (``(module,
    filter class)`` pairs, from ``register_segment_filters``)."""
    specs = {s.tag: s for s in (_spec(cls, "core") for cls in core_filters)}
    for module, cls in module_filters:
        spec = _spec(cls, module)
        specs[spec.tag] = spec
    return specs


def saved_spec(segments: Sequence[dict[str, Any]]) -> FilterSpec:
    """The ``in_segment`` condition: one of the saved segments the unit sees."""
    options = tuple((str(s["id"]), s["name"]) for s in segments)
    choose = Input(
        name="segment_id",
        label=N_("Saved segment"),
        widget="segment",
        required=True,
        options=options,
    )
    return FilterSpec(tag=IN_SEGMENT, label=N_("In a saved segment"), inputs=(choose,))


@cache
def _keys(root: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The patterns of a node's field and of an input's field under ``root``."""
    if not _ROOT_NAME.match(root):
        raise ValueError(f"not a builder root: {root!r}")
    node = re.compile(rf"^{root}(?:\.\d{{1,3}}){{0,6}}$")
    item = re.compile(rf"^({root}(?:\.\d{{1,3}}){{1,6}})\.([a-z_][a-z0-9_]{{0,49}})$")
    return node, item


def parse_builder(pairs: Iterable[tuple[str, str]], root: str = ROOT) -> Builder:
    """The builder's tree under ``root`` from query or form fields (anything else is ignored;
    a node whose parent is missing or no group is dropped)."""
    node_key, field_key = _keys(root)
    kinds: dict[str, str] = {}
    values: dict[str, dict[str, list[str]]] = {}
    for key, value in pairs:
        if node_key.match(key):
            kinds.setdefault(key, value.strip())
        elif match := field_key.match(key):
            values.setdefault(match[1], {}).setdefault(match[2], []).append(value)
    top = Node(root, kinds.get(root) if kinds.get(root) in GROUP_LABELS else "all")
    nodes = {root: top}
    skip = len(root) + 1
    order = sorted(
        (k for k in kinds if k != root), key=lambda k: [int(p) for p in k[skip:].split(".")]
    )
    for path in order[:_MAX_NODES]:
        parent = nodes.get(path.rsplit(".", 1)[0])
        if parent is None or not parent.group:
            continue
        node = Node(path, kinds[path], values.get(path, {}))
        parent.children.append(node)
        nodes[path] = node
    return Builder(top)


def _find(node: Node, path: str) -> tuple[Node | None, Node | None]:
    """The node at ``path`` and its parent."""
    for child in node.children:
        if child.path == path:
            return child, node
        if path.startswith(child.path + "."):
            return _find(child, path)
    return (node, None) if node.path == path else (None, None)


def apply_action(
    builder: Builder,
    pairs: Sequence[tuple[str, str]],
    specs: dict[str, FilterSpec],
) -> str | None:
    """Apply the button pressed (``add`` / ``remove``, their value a node's path) to the
    tree; returns the anchor to show afterwards, ``None`` when no button was pressed.

    ``add`` appends to group ``<path>`` what ``new.<path>`` names: a group kind, a filter
    tag (its inputs preset with the defaults) or ``segment:<id>`` (a saved segment)."""
    given = dict(pairs)
    if "remove" in given:
        node, parent = _find(builder.root, given["remove"])
        if node is not None and parent is not None:
            parent.children.remove(node)
            return parent.anchor
        return builder.root.anchor
    if "add" not in given:
        return None
    group, _parent = _find(builder.root, given["add"])
    if group is None or not group.group:
        return builder.root.anchor
    depth = group.path.count(".")
    what = given.get(f"new.{group.path}", "")
    if what in GROUP_LABELS and depth < _MAX_DEPTH - 1:
        child = Node("", what)
    elif what.startswith("segment:") and what[8:].isdecimal():
        child = Node("", IN_SEGMENT, {"segment_id": [what[8:]]})
    elif what in specs:
        child = Node("", what, {i.name: list(i.default) for i in specs[what].inputs})
    else:
        return group.anchor
    child.path = f"{group.path}.{len(group.children)}"
    group.children.append(child)
    return child.anchor


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text  # the type check names it


def _value(item: Input, raw: list[str], zone: ZoneInfo) -> Any:
    """One input's raw texts as JSON data (``msgspec.UNSET`` when left empty)."""
    text = raw[0].strip() if raw else ""
    if item.widget == "checks":
        return [v for v in raw if v]
    if item.widget == "list":
        parts = [p.strip() for t in raw for p in t.split(",") if p.strip()]
        if not parts:
            return msgspec.UNSET
        return [_number(p) for p in parts] if item.numbers else parts
    if not text:
        return msgspec.UNSET
    if item.widget in ("number", "segment"):
        return _number(text)
    if item.widget == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text  # the type check names it
        return datetime.combine(day, time(0), zone).isoformat()
    if item.widget == "value":
        try:
            decoded = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return text
        return decoded if isinstance(decoded, str | int | float | bool) else text
    return text


def _filled(node: Node, specs: dict[str, FilterSpec]) -> bool:
    """Whether the node takes part: a group with a condition that does, a condition with
    one of its required inputs filled in (or none required)."""
    if node.group:
        return any(_filled(child, specs) for child in node.children)
    spec = specs.get(node.kind)
    if spec is None or not spec.required:
        return True
    return any(node.filled(i.name) for i in spec.inputs if i.required)


def segment_data(
    builder: Builder, specs: dict[str, FilterSpec], zone: ZoneInfo
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The ``Segment`` definition (JSON data; ``None`` when no condition takes part) and
    where its nodes sit: ``{field path of the node (segment.where.of[0]): builder path}``.

    Conditions with none of their required inputs filled in are left out
    (``builder.pending``): a freshly added one does not fail the page before the user has
    typed anything. A ``none of these`` group of several conditions is ``not`` of their
    ``any``."""
    places: dict[str, str] = {}

    def convert(node: Node, where: str) -> dict[str, Any]:
        places[where] = node.path
        if not node.group:
            spec = specs.get(node.kind)
            data: dict[str, Any] = {"type": node.kind}
            for item in spec.inputs if spec else ():
                value = _value(item, node.values.get(item.name, []), zone)
                if value is not msgspec.UNSET:
                    data[item.name] = value
            return data
        taking = [c for c in node.children if _filled(c, specs)]
        builder.pending.update(
            c.path for c in node.children if not c.group and not _filled(c, specs)
        )
        if node.kind == "not" and len(taking) == 1:
            return {"type": "not", "of": convert(taking[0], f"{where}.of")}
        inner = f"{where}.of" if node.kind == "not" else where
        of = [convert(c, f"{inner}.of[{i}]") for i, c in enumerate(taking)]
        if node.kind == "not":
            return {"type": "not", "of": {"type": "any", "of": of}}
        return {"type": node.kind, "of": of}

    where = f"{SEGMENT_FIELD}.where"
    if not _filled(builder.root, specs):
        builder.pending.update(c.path for c in builder.root.children if not c.group)
        return None, {}
    return {"where": convert(builder.root, where)}, places


def _raw(item: Input, value: Any, zone: ZoneInfo) -> list[str]:
    """A filter field's JSON value as the raw texts of its input (:func:`_value` reversed)."""
    if isinstance(value, list):
        texts = [str(v) for v in value]
        return [", ".join(texts)] if item.widget == "list" else texts
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if item.widget == "date" and isinstance(value, str):
        try:
            return [datetime.fromisoformat(value).astimezone(zone).date().isoformat()]
        except ValueError:
            return [value]
    if item.widget == "value" and isinstance(value, str):
        try:
            plain = isinstance(msgspec.json.decode(value), str)
        except msgspec.DecodeError:
            plain = True
        return [value if plain else msgspec.json.encode(value).decode()]
    return [str(value)]


def builder_from_segment(
    data: dict[str, Any], specs: dict[str, FilterSpec], zone: ZoneInfo, root: str = ROOT
) -> Builder | None:
    """The builder showing a ``Segment`` definition in its tree form (``where``, as
    :func:`core.segments.compiler.parse_segment` gives it back), to edit a stored segment;
    ``None`` when it holds a node the builder cannot show (a random sample)."""
    _keys(root)

    class _Unshown(Exception):
        pass

    def node(value: dict[str, Any], path: str) -> Node:
        kind = value.get("type", "")
        if kind in ("all", "any"):
            made = Node(path, kind)
            made.children = [node(c, f"{path}.{i}") for i, c in enumerate(value["of"])]
            return made
        if kind == "not":
            inner = value["of"]
            children = inner["of"] if inner.get("type") == "any" else [inner]
            made = Node(path, "not")
            made.children = [node(c, f"{path}.{i}") for i, c in enumerate(children)]
            return made
        spec = specs.get(kind)
        if spec is None or path == root:
            raise _Unshown
        inputs = {i.name: i for i in spec.inputs}
        values = {
            name: _raw(inputs[name], v, zone)
            for name, v in value.items()
            if name in inputs and v is not None
        }
        return Node(path, kind, values)

    where = data.get("where")
    if where is None:
        return Builder(Node(root, "all"))
    try:
        if where.get("type") in GROUP_LABELS:
            return Builder(node(where, root))
        return Builder(Node(root, "all", children=[node(where, f"{root}.0")]))
    except _Unshown:
        return None


def field_errors(problem: Problem, places: dict[str, str]) -> Problem:
    """``problem`` with each error's field path (``segment.where.of[1].after``) renamed to
    the builder input it is about (``w.1.after``; the node ``w.1`` for the whole condition,
    ``form`` for none), its message ids and values kept for translation."""
    renamed: list[FieldError] = []
    for name, message in problem.error_ids.items():
        renamed.append(FieldError(_place(name, message, places), message))
    return Problem(
        problem.status,
        problem.slug,
        problem.detail_id,
        errors=renamed or None,
        values=problem.values,
    )


def _place(name: str, message: str, places: dict[str, str]) -> str:
    """The builder input an error about field path ``name`` belongs to."""
    best = max(
        (w for w in places if name == w or name.startswith((w + ".", w + "["))),
        key=len,
        default=None,
    )
    if best is None:
        return "form"
    path = places[best]
    rest = name[len(best) :]
    if match := re.match(r"^\.([a-z_][a-z0-9_]*)", rest):
        return path if match[1] == "type" else f"{path}.{match[1]}"
    if missing := _MISSING.search(message):
        return f"{path}.{missing[1]}"
    return path
