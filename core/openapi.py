"""Document the problem responses every operation may give (RFC 9457) in the OpenAPI schema.

Litestar documents a 400 with its own validation body; orga answers every error as
``application/problem+json`` (:class:`core.problems.ProblemBody`). This replaces that 400 and adds
401, 403, 404, 409, 422 and 429 to every operation, so clients and schema-driven fuzzing see
what the API really answers.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar

from core.problems import ProblemBody

__all__ = ["document_problems"]

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


def _problem_schema() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        [ProblemBody], ref_template="#/components/schemas/{name}"
    )
    return components


def document_problems(app: Litestar) -> None:
    """Add the Problem schema and the error responses to the app's cached OpenAPI document."""
    from litestar._openapi.plugin import OpenAPIPlugin  # the plugin caches the rendered dict

    document = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_problem_schema())
    reference = {"$ref": "#/components/schemas/ProblemBody"}
    for path_item in document.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _STATUSES.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/problem+json": {"schema": reference}},
                }
