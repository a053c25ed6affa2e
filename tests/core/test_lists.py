"""Lists are paged the same way: every GET answering a list is a ``Page`` with ``limit`` and
``cursor``, or says in its summary that it is bounded and not paged."""

from __future__ import annotations

from typing import Any

#: The lists that are bounded by nature (and say so), not paged.
BOUNDED = {
    "/api/orgs",
    "/api/orgs/{org_id}/modules",
    "/api/orgs/{org_id}/linksaktiv/topics",
    "/api/orgs/{org_id}/linksaktiv/distribution",
    "/api/orgs/{org_id}/linksaktiv/calls/{call_id}/results",  # a row per child unit
    "/api/orgs/{org_id}/events/{event_id}/shifts",  # at most 50 an event
    "/api/orgs/{org_id}/mailings/{mailing_id}/timeline",
}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


async def test_every_list_is_a_page_or_documented_as_bounded(client):
    spec = (await client.get("/schema/openapi.json")).json()
    bare, paged = set(), set()
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        content = operation["responses"].get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            continue
        schema = _resolve(spec, schema)
        if schema.get("type") == "array":
            bare.add(path)
            assert "not paged" in operation["summary"], path
        elif {"items", "next_cursor"} <= set(schema.get("properties", {})):
            paged.add(path)
            names = {p["name"] for p in operation.get("parameters", [])}
            assert {"limit", "cursor"} <= names, path
    assert bare == BOUNDED
    assert {
        "/api/me/calling",
        "/api/orgs/{org_id}/calling/assignments/{assignment_id}/callers",
        "/api/orgs/{org_id}/linksaktiv/editions/{edition_id}/pickup",
        "/api/orgs/{org_id}/linksaktiv/funnel",
    } <= paged
