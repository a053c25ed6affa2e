"""The segment builder on the console's people list: read it from the query and count it
with the same services as the JSON preview, for the list to narrow to.

The people pages (:mod:`core.people.pages`) call :func:`read_builder` and
:func:`builder_action`; the live count for ``console.js`` (``GET …/people/count``) is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel.numbers import format_decimal
from litestar import MediaType, Request, Response, get

from core.auth.guards import OrgScope, requires
from core.i18n import ngettext
from core.orgs.services import module_states
from core.people.services import SegmentWhere
from core.problems import Problem
from core.segments import services
from core.segments.builder import (
    IN_SEGMENT,
    ROOT,
    Builder,
    FilterSpec,
    apply_action,
    builder_from_segment,
    field_errors,
    filter_specs,
    parse_builder,
    saved_spec,
    segment_data,
)
from core.segments.compiler import count_and_sample, parse_segment, segment_where
from core.segments.filters import CORE_FILTERS
from core.web.render import console_form_errors, console_locale, see_other, translate

__all__ = [
    "BuilderState",
    "apply_builder_action",
    "builder_action",
    "count_text",
    "read_builder",
    "segment_pages",
    "segment_params",
]


@dataclass
class BuilderState:
    """The builder of one request: its tree, the filter types (``specs``: every one, by tag;
    ``offered``: those of core and of the modules on for the unit), the saved segments the
    unit sees, the compiled segment and its count once valid, and the errors by input."""

    builder: Builder
    specs: dict[str, FilterSpec]
    offered: list[FilterSpec]
    saved: list[dict[str, Any]]
    segment: Any = None
    where: SegmentWhere | None = None
    count: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def invalid(self) -> bool:
        """Whether a condition is wrong (the page answers 422)."""
        return bool(self.errors)


def count_text(count: int, locale: str) -> str:
    """ "12 people match the conditions." in ``locale``."""
    text = ngettext(
        "%(count)s person matches the conditions.",
        "%(count)s people match the conditions.",
        count,
        locale,
    )
    return text % {"count": format_decimal(count, locale=locale)}


def _inputs(state: BuilderState) -> set[str]:
    """Every input (and condition) name the builder shows, for the errors beside them."""
    names: set[str] = set()
    stack = [state.builder.root]
    while stack:
        node = stack.pop()
        names.add(node.path)
        stack.extend(node.children)
        spec = state.specs.get(node.kind)
        if spec is not None:
            names.update(f"{node.path}.{item.name}" for item in spec.inputs)
    return names


async def _specs(request: Request, org: OrgScope) -> tuple[dict[str, FilterSpec], list[str]]:
    """Every filter type by tag, and the tags offered at the unit (modules switched on)."""
    module_filters = _module_filters(request)
    specs = filter_specs(CORE_FILTERS, module_filters)
    modules = sorted({module for module, _cls in module_filters})
    states = await module_states(org.path, modules) if modules else {}
    offered = [
        tag for tag, spec in specs.items() if spec.module == "core" or states.get(spec.module)
    ]
    return specs, offered


async def read_builder(
    request: Request,
    org: OrgScope,
    pairs: list[tuple[str, str]],
    *,
    narrow: bool = True,
    root: str = ROOT,
) -> BuilderState:
    """The builder under ``root`` in ``pairs`` (query or form fields), checked and counted
    when it holds a condition: ``parse_segment`` and ``count_and_sample`` as the JSON preview
    does, and the compiled segment to narrow the list (``narrow``). Errors are kept by input,
    nothing raised. A form holding several builders reads each under its own root."""
    specs, offered = await _specs(request, org)
    saved = await services.visible_saved(org.path)
    specs[IN_SEGMENT] = saved_spec(saved)
    state = BuilderState(
        builder=parse_builder(pairs, root),
        specs=specs,
        offered=[specs[tag] for tag in offered],
        saved=saved,
    )
    zone = ZoneInfo(request.app.state.orga.settings.timezone)
    data, places = segment_data(state.builder, specs, zone)
    if data is None:
        return state
    try:
        state.segment = parse_segment(data, "segment")
        state.count, _ = await count_and_sample(state.segment, org.path, sample=0)
        if narrow:
            state.where = await segment_where(state.segment, org.path)
    except Problem as exc:
        state.segment = state.where = state.count = None
        problem = field_errors(exc, places)
        state.errors = console_form_errors(request, problem, sorted(_inputs(state)))
    return state


def builder_action(request: Request, base: str, pairs: list[tuple[str, str]]) -> Response | None:
    """The builder's add / remove buttons (a GET form, so it works without JavaScript):
    apply it and redirect to the tree's canonical address, the changed place in view;
    ``None`` when no such button was pressed."""
    if not any(key in ("add", "remove") for key, _value in pairs):
        return None
    builder = parse_builder(pairs)
    anchor = apply_action(builder, pairs, filter_specs(CORE_FILTERS, _module_filters(request)))
    query = builder.query(q=dict(pairs).get("q", "").strip())
    return see_other(f"{base}?{query}#{anchor}")


async def segment_params(
    request: Request, org: OrgScope, data: dict[str, Any], root: str = ROOT
) -> list[tuple[str, str]] | None:
    """A stored segment definition as the builder's fields under ``root``, for a form that
    edits it (:func:`read_builder` reads them back); ``None`` when the builder cannot show
    it (a random sample: edit it through the API)."""
    specs, _offered = await _specs(request, org)
    specs[IN_SEGMENT] = saved_spec(await services.visible_saved(org.path))
    tree = msgspec.to_builtins(parse_segment(data, "segment"))
    zone = ZoneInfo(request.app.state.orga.settings.timezone)
    builder = builder_from_segment(tree, specs, zone, root)
    return None if builder is None else builder.params()


def apply_builder_action(
    request: Request, pairs: list[tuple[str, str]], root: str
) -> tuple[list[tuple[str, str]], str] | None:
    """A POST form's builder button (``add`` / ``remove``) when it belongs to the builder
    under ``root``: the form's fields with that builder's tree changed, and the anchor to
    show; ``None`` when no button of this builder was pressed."""
    given = dict(pairs)
    pressed = given.get("add") or given.get("remove") or ""
    if pressed != root and not pressed.startswith(root + "."):
        return None
    builder = parse_builder(pairs, root)
    anchor = apply_action(builder, pairs, filter_specs(CORE_FILTERS, _module_filters(request)))
    kept = [(k, v) for k, v in pairs if not _belongs(k, root) and k not in ("add", "remove")]
    return kept + builder.params(), anchor or builder.root.anchor


def _belongs(key: str, root: str) -> bool:
    """Whether form field ``key`` is part of the builder under ``root``."""
    return key in (root, f"new.{root}") or key.startswith((root + ".", f"new.{root}."))


def _module_filters(request: Request) -> list[tuple[str, type]]:
    """Every module's filter types as ``(module, filter class)``."""
    registry = request.app.state.orga.registry
    return [
        (module, cls)
        for module, filters in registry.call_each("register_segment_filters")
        for cls in filters
    ]


@get("/people/count", guards=[requires("people.view")])
async def people_count(request: Request, org: OrgScope) -> Response[bytes]:
    """The live count of the builder's segment for ``console.js`` (session, not the JSON
    API): ``{"text": …, "count": n}``, or 422 with ``{"text": …, "errors": {input: …}}``."""
    locale = console_locale(request)
    state = await read_builder(request, org, list(request.query_params.multi_items()), narrow=False)
    if state.invalid:
        body = {"text": translate(request, "Please check the conditions."), "errors": state.errors}
        return Response(msgspec.json.encode(body), media_type=MediaType.JSON, status_code=422)
    if state.count is None:
        body: dict[str, Any] = {"text": translate(request, "No conditions yet."), "count": None}
    else:
        body = {"text": count_text(state.count, locale), "count": state.count}
    return Response(msgspec.json.encode(body), media_type=MediaType.JSON)


def segment_pages() -> list[Any]:
    """Handlers mounted under ``/app/orgs/{org_id}`` beside the people pages."""
    return [people_count]
