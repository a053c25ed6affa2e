"""The OpenAPI document as a contract clients can generate code from.

Litestar builds the document from the route handlers; this module sets it up and finishes it
in one place, so no route file has to care:

- **Operation ids** are ``<tag>_<handler name>`` (``calling_list_assignments``), unless a
  handler names its own with ``operation_id=`` (``calling_next``).
- **Security**: one scheme, ``bearer`` (a session or API token in ``Authorization: Bearer``).
  An operation behind a guard that answers 401 without a token
  (:func:`core.auth.guards.needs_token`) requires it; every other operation says
  ``security: []`` (public).
- **Errors**: every operation documents its problem responses
  (``application/problem+json``, :class:`core.problems.ProblemBody`).
- **Optional bodies** (``data: X | None = None``) are ``required: false`` with schema ``X``.
- **Schema names**: every component is named after its title and carries it as ``title``
  (``Page[PersonOut]`` becomes ``PersonOutPage``), so no two schemas share a title. Should two
  modules still bring Structs of one name, both fall back to their module path
  (``CallingSchemasCallOut``) and no model is lost; shipped modules keep their names unique.
- **Segments**: a module field typed :data:`core.api.SegmentDefinition` shows the run-time
  ``Segment`` schema (core's and every module's filters), see :class:`SegmentSchema`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, Reference, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from core.auth.guards import needs_token
from core.problems import ProblemBody
from core.segments.types import SEGMENT_MARK

__all__ = ["BEARER", "SegmentSchema", "finish_document", "openapi_config", "operation_id"]

BEARER = "bearer"

_BEARER_SCHEME = SecurityScheme(
    type="http",
    scheme="bearer",
    description=(
        "A session token from `POST /api/auth/login` or an API token from "
        "`POST /api/orgs/{org_id}/tokens`, sent as `Authorization: Bearer <token>`."
    ),
)

_STATUSES = {
    "400": "Malformed request",
    "401": "Not authenticated",
    "403": "Permission missing",
    "404": "Not found, or not visible to you",
    "409": "Conflicts with the current state",
    "422": "Invalid input; errors[].field names the field",
    "429": "Too many requests",
}
_METHODS = ("get", "post", "put", "patch", "delete")
_REF = "#/components/schemas/"


def operation_id(handler: HTTPRouteHandler, method: str, path_components: list[Any]) -> str:
    """``<first tag>_<handler function name>``: short, and stable while the code is."""
    tags = handler.resolve_tags()
    return f"{tags[0]}_{handler.handler_name}" if tags else handler.handler_name


class SegmentSchema(OpenAPISchemaPlugin):
    """Documents fields marked :data:`core.api.SegmentDefinition` as the run-time segment."""

    def __init__(self, segment: type[msgspec.Struct]) -> None:
        self.segment = segment

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        """A field annotated with the segment mark."""
        return SEGMENT_MARK in field_definition.metadata

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """A reference to the ``Segment`` component."""
        segment: Schema | Reference = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(self.segment)
        )
        return segment  # type: ignore[return-value]  # Litestar takes a Reference here too


def openapi_config(title: str, version: str, ui: OpenAPIRenderPlugin) -> OpenAPIConfig:
    """The app's OpenAPI settings: served under ``/schema``, ``ui`` at its root."""
    return OpenAPIConfig(
        title=title,
        version=version,
        path="/schema",
        render_plugins=[ui],
        operation_id_creator=operation_id,
        components=Components(security_schemes={BEARER: _BEARER_SCHEME}),
    )


def finish_document(app: Litestar) -> None:
    """Name the schemas, add problem responses, security and optional bodies to the app's
    cached OpenAPI document."""
    from litestar._openapi.plugin import OpenAPIPlugin  # the plugin caches the rendered dict

    document = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    _name_schemas(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_problem_schemas())
    paths = document.get("paths", {})
    for path, method, handler in _operations(app):
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        operation["security"] = [{BEARER: []}] if needs_token(handler.resolve_guards()) else []
        _optional_body(operation, handler)
    for path_item in paths.values():
        for method in _METHODS:
            if method in path_item:
                _problem_responses(path_item[method])


def _operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """(document path, lower-case method, handler) of every documented operation."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                for method in handler.http_methods:
                    yield route.path_format or "/", method.lower(), handler


def _optional_body(operation: dict[str, Any], handler: HTTPRouteHandler) -> None:
    """A body the handler can do without is ``required: false``, its schema without null."""
    data = handler.parsed_fn_signature.parameters.get("data")
    body = operation.get("requestBody")
    if data is None or body is None or not (data.is_optional or data.has_default):
        return
    body["required"] = False
    for media in body.get("content", {}).values():
        arms = media.get("schema", {}).get("oneOf", [])
        rest = [arm for arm in arms if arm != {"type": "null"}]
        if len(rest) == 1 and len(arms) == 2:
            media["schema"] = rest[0]


def _problem_schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components([ProblemBody], ref_template=_REF + "{name}")
    return components


def _problem_responses(operation: dict[str, Any]) -> None:
    reference = {"$ref": _REF + "ProblemBody"}
    responses = operation.setdefault("responses", {})
    for status, description in _STATUSES.items():
        responses[status] = {
            "description": description,
            "content": {"application/problem+json": {"schema": reference}},
        }


def _schema_name(title: str) -> str:
    """``Page[PersonOut]`` → ``PersonOutPage``; plain names stay."""
    match = re.fullmatch(r"(\w+)\[(.+)\]", title)
    if match is None:
        return title
    inner = "".join(_schema_name(part.strip()) for part in match[2].split(","))
    return inner + match[1]


def _module_path_name(key: str) -> str:
    """``calling_schemas_CallOut`` → ``CallingSchemasCallOut`` (for clashing titles)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", key))


def _name_schemas(document: dict[str, Any]) -> None:
    """Key every component schema by its (unique) title and rewrite the references."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    wanted = {key: _schema_name(schema.get("title") or key) for key, schema in schemas.items()}
    taken = Counter(wanted.values())
    names = {
        key: name if taken[name] == 1 else _module_path_name(key) for key, name in wanted.items()
    }
    renamed = {}
    for key, schema in schemas.items():
        schema["title"] = names[key]
        renamed[names[key]] = schema
    document["components"]["schemas"] = dict(sorted(renamed.items()))
    refs = {_REF + key: _REF + name for key, name in names.items() if key != name}
    if refs:
        _rewrite_refs(document, refs)


def _rewrite_refs(node: Any, refs: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and value in refs:
                node[key] = refs[value]
            else:
                _rewrite_refs(value, refs)
    elif isinstance(node, list):
        for item in node:
            _rewrite_refs(item, refs)
