"""Every error is application/problem+json with a stable type and the fields at fault."""

from __future__ import annotations

import base64

import msgspec
import msgspec.inspect


async def admin_of_root(factory):
    root = await factory.org("Bund", kind="federal")
    return root, await factory.user("admin", root["id"])


async def test_validation_error_names_the_field(client, factory):
    root, admin = await admin_of_root(factory)
    response = await client.post(
        "/api/orgs", headers=admin.headers, json={"name": "", "kind": "x", "parent_id": root["id"]}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:orga:problem:validation-error"
    assert body["status"] == 422
    assert body["title"]
    assert [e["field"] for e in body["errors"]] == ["name"]


async def test_unknown_field_and_wrong_type_are_rejected(client, factory):
    root, admin = await admin_of_root(factory)
    unknown = await client.post(
        "/api/orgs",
        headers=admin.headers,
        json={"name": "X", "kind": "x", "parent_id": root["id"], "colour": "red"},
    )
    assert unknown.status_code == 422
    assert "colour" in unknown.json()["detail"]
    wrong = await client.post(
        "/api/orgs", headers=admin.headers, json={"name": "X", "kind": "x", "parent_id": "one"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "parent_id"


async def test_malformed_json_is_a_problem(client):
    response = await client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_body_size_limit(client):
    response = await client.post(
        "/api/auth/login", content=b"x" * 2_100_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:orga:problem:body-too-large"


async def test_unknown_route_and_wrong_method(client):
    missing = await client.get("/api/does-not-exist")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:orga:problem:not-found"
    method = await client.delete("/api/health")
    assert method.status_code == 405
    assert method.headers["content-type"].startswith("application/problem+json")


async def test_limit_out_of_range(client, factory):
    root, admin = await admin_of_root(factory)
    response = await client.get(
        f"/api/orgs/{root['id']}/audit", headers=admin.headers, params={"limit": 100000}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


async def test_unexpected_errors_leak_no_trace(client, factory, monkeypatch):
    _, admin = await admin_of_root(factory)

    async def explode(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("core.orgs.services.visible_units", explode)
    monkeypatch.setattr("core.orgs.routes.services.visible_units", explode)
    response = await client.get("/api/orgs", headers=admin.headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_deeply_nested_json_is_a_400_naming_the_body(client):
    """100,000 levels of ``[`` used to exhaust the decoder's recursion (a 500)."""
    for body in ("[" * 100_000 + "]" * 100_000, '{"email": ' + "[" * 100_000):
        response = await client.post(
            "/api/auth/login", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == "body"


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_cursor_of_the_wrong_shape_is_a_422_naming_it(client, factory):
    """Well-formed JSON in the cursor that is not the page's sort key (a string, a nested list,
    null, a key of another list) used to reach ``int(…)`` and answer 500."""
    root, admin = await admin_of_root(factory)
    base = f"/api/orgs/{root['id']}"
    wrong = [b'["x"]', b"[[1]]", b"[null]", b"[]", b'{"id": 1}', b'"x"']
    for path, good in (
        ("/people", b"[1]"),
        ("/people/duplicates", b'[0, "a"]'),
        ("/audit", b"[5]"),
    ):
        ok = await client.get(base + path, params={"cursor": _cursor(good)}, headers=admin.headers)
        assert ok.status_code == 200, (path, ok.text)
        for raw in [*wrong, b'[0, "a"]' if path != "/people/duplicates" else b"[1]"]:
            response = await client.get(
                base + path, params={"cursor": _cursor(raw)}, headers=admin.headers
            )
            assert response.status_code == 422, (path, raw, response.text)
            assert response.json()["errors"][0]["field"] == "cursor"


def _naive_times(info: msgspec.inspect.Type, path: str, seen: set) -> list[str]:
    """Paths of the datetime fields in a request body type that accept a naive time."""
    if isinstance(info, msgspec.inspect.DateTimeType):
        return [path] if info.tz is not True else []
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return []
        seen.add(info.cls)
        return [
            found
            for field in info.fields
            for found in _naive_times(field.type, f"{path}.{field.name}", seen)
        ]
    found = []
    for value in msgspec.structs.asdict(info).values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, msgspec.inspect.Type):
                found += _naive_times(item, path, seen)
    return found


def test_every_time_in_a_request_body_must_carry_its_offset(app):
    """A naive time compared with the aware ones orga stores raises TypeError (the probe's 500
    on linksaktiv calls): every body field of type datetime is core's ``AwareDatetime``."""
    naive = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                info = msgspec.inspect.type_info(data.annotation)
                naive += _naive_times(info, f"{handler.handler_name}:data", set())
    assert naive == []


async def test_a_message_with_values_is_english_in_json_and_translated_on_pages(client, factory):
    """The API fills the values into the English text; a page translates the message id and
    fills them in after (``core.public.form_errors``)."""
    from core.problems import N_, invalid
    from core.public import form_errors

    root, admin = await admin_of_root(factory)
    response = await client.put(
        f"/api/orgs/{root['id']}/postcodes", headers=admin.headers, json={"postal_codes": ["4x"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "postal_codes", "message": "'4x' is not a postal code or range"}
    ]
    problem = invalid("postal_codes", N_("'%(entry)s' is not a postal code or range"), entry="4x")
    assert form_errors(problem, "de", ["postal_codes"]) == {
        "postal_codes": "„4x“ ist keine Postleitzahl und kein Bereich"
    }
    assert form_errors(problem, "en", ["postal_codes"]) == {
        "postal_codes": "'4x' is not a postal code or range"
    }
    unknown = invalid("postal_codes", "'%(entry)s' is odd", entry="4x")  # not in the catalog
    assert form_errors(unknown, "de", ["postal_codes"]) == {
        "postal_codes": "Bitte prüfe diese Angabe."
    }
