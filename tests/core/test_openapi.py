"""The OpenAPI document is a contract: valid, secured per operation, uniquely named schemas,
the real Segment schema, optional bodies marked so, no operation answering ``null``, the JSON
for party websites included, short operation ids — and it says what the API really does."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from openapi_spec_validator import validate

METHODS = ("get", "post", "put", "patch", "delete")
SEGMENT = {"$ref": "#/components/schemas/Segment"}


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


def without_null(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The arms of a property schema other than ``null``."""
    return [arm for arm in schema.get("oneOf", [schema]) if arm != {"type": "null"}]


async def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


async def test_security_is_declared_and_matches_what_the_api_answers(client, document):
    """Every operation says whether it needs the bearer token, and a request without one
    gets 401 exactly from the operations that say so."""
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"bearer"}
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    public = set()
    for method, path, operation in operations(document):
        assert operation["security"] in ([], [{"bearer": []}]), (method, path)
        url = re.sub(r"\{[^}]+\}", "1", path)
        body = {"json": {}} if method in ("post", "put", "patch") else {}
        status = (await client.request(method.upper(), url, **body)).status_code
        if operation["security"] == []:
            public.add(f"{method.upper()} {path}")
            assert status != 401, (method, path)
        else:
            assert status == 401, (method, path, status)
    assert public == {
        "GET /api/health",
        "GET /api/health/live",
        "GET /api/health/ready",
        "POST /api/auth/login",
        "POST /api/auth/password-reset",
        "POST /api/auth/password-reset/confirm",
        "POST /p/linksaktiv/api/join",
        "GET /p/events/{org_id}/events.json",
    }


async def test_no_two_schemas_share_a_title(document):
    """Generators name models by title: two ``CallOut``s made one module's models vanish."""
    schemas = document["components"]["schemas"]
    titles = Counter(schema.get("title") for schema in schemas.values())
    assert [title for title, n in titles.items() if n > 1] == []
    assert all(schema.get("title") == name for name, schema in schemas.items())
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) for name in schemas), sorted(schemas)
    assert {"CallOut", "CallToActionOut", "PersonOutPage", "Segment", "SavedIn"} <= set(schemas)


async def test_segment_fields_use_the_segment_schema(document):
    schemas = document["components"]["schemas"]
    assert schemas["Segment"]["properties"]["where"]["oneOf"]  # the tree of groups and filters
    assignment = schemas["AssignmentIn"]["properties"]
    assert assignment["target"] == SEGMENT
    assert without_null(assignment["goal"]) == [SEGMENT]
    assert without_null(schemas["AssignmentPatch"]["properties"]["target"]) == [SEGMENT]
    assert without_null(schemas["AssignmentOut"]["properties"]["target"]) == [SEGMENT]
    assert schemas["MailingIn"]["properties"]["audience"] == SEGMENT
    assert without_null(schemas["MailingPatch"]["properties"]["audience"]) == [SEGMENT]
    assert schemas["SavedIn"]["properties"]["definition"] == SEGMENT
    preview = document["paths"]["/api/orgs/{org_id}/segments/preview"]["post"]
    assert preview["requestBody"]["content"]["application/json"]["schema"] == SEGMENT


async def test_optional_bodies_are_documented_as_optional(document):
    """``…/next`` works without a body ("give me the next one"); with one it reports the
    previous call first."""
    path = "/api/orgs/{org_id}/calling/assignments/{assignment_id}/next"
    body = document["paths"][path]["post"]["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NextIn"}
    for method, path, operation in operations(document):
        if operation.get("requestBody", {}).get("required"):
            for media in operation["requestBody"]["content"].values():
                assert {"type": "null"} not in media["schema"].get("oneOf", []), (method, path)


async def test_no_operation_answers_null(document):
    """A success either has a documented body or is 204 No Content."""
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            if status == "204":
                assert "content" not in response, (method, path)
                continue
            assert response.get("content"), (method, path, status)
            for media in response["content"].values():
                assert media.get("schema") not in (None, {"type": "null"}), (method, path)


async def test_operations_that_answered_null_now_answer_204_or_a_body(client, factory):
    org = await factory.org(kind="federal")
    admin = await factory.user("admin", org["id"])
    caller = await factory.user("caller", org["id"])
    patched = await client.patch(
        f"/api/orgs/{org['id']}/users/{caller.id}", json={"active": False}, headers=admin.headers
    )
    assert (patched.status_code, patched.content) == (204, b"")
    reset = await client.post("/api/auth/password-reset", json={"email": "nobody@example.org"})
    assert (reset.status_code, reset.json()) == (202, {"status": "accepted"})


async def test_json_for_party_websites_is_documented(document):
    join = document["paths"]["/p/linksaktiv/api/join"]["post"]
    assert join["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JoinIn"
    }
    assert "202" in join["responses"]
    events = document["paths"]["/p/events/{org_id}/events.json"]["get"]
    ok = events["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/PublicEvents"}
    # the HTML pages under /p/ stay out of the API document
    assert sorted(p for p in document["paths"] if p.startswith("/p/")) == [
        "/p/events/{org_id}/events.json",
        "/p/linksaktiv/api/join",
    ]


async def test_operation_ids_are_short_and_stable(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    long = [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", i) or len(i) > 40]
    assert long == []
    expected = {"calling_next", "auth_login", "people_list_people", "mailings_pause"}
    assert expected <= set(ids)
    assert {"linksaktiv_join", "events_public_list", "calling_create_assignment"} <= set(ids)
