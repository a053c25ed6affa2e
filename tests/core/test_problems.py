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


# Issue 23 item 2: errors name the field, out-of-range problems list it, details are translated.

GERMAN = {"accept-language": "de"}


async def test_a_422_under_an_org_names_only_the_query_parameter(client, factory):
    """Every 422 under /api/orgs/{org_id} used to list a bogus ``ParamType.PATH.org_id`` error
    and name query parameters ``ParamType.QUERY.limit``."""
    root, admin = await admin_of_root(factory)
    for path in ("/audit", "/people/"):
        response = await client.get(
            f"/api/orgs/{root['id']}{path}",
            params={"limit": "many"},
            headers=admin.headers | GERMAN,
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert [e["field"] for e in body["errors"]] == ["limit"]
        assert body["detail"] == "Bitte prüfen: limit."
        english = await client.get(
            f"/api/orgs/{root['id']}{path}",
            params={"limit": "many"},
            headers=admin.headers | {"accept-language": "en"},
        )
        assert english.json()["detail"] == "limit: Expected `int`, got `str`"


async def test_unknown_and_missing_body_fields_are_named(client, factory):
    """An unknown body member was named ``data``; a missing one too."""
    root, admin = await admin_of_root(factory)
    people = f"/api/orgs/{root['id']}/people/"
    cases = [
        (people, {"first_name": "Rosa", "zzz": 1}, "zzz"),
        (people, {"first_name": "Rosa", "consents": [{"zzz": 1}]}, "consents[0].zzz"),
        (people, {"first_name": "Rosa", "consents": [{}]}, "consents[0].channel"),
        (people, [1], "body"),
        ("/api/orgs", {"name": "X", "kind": "x", "parent_id": root["id"], "zzz": 1}, "zzz"),
        ("/api/auth/login", {"email": "a@example.org"}, "password"),
    ]
    for path, body, field in cases:
        response = await client.post(path, json=body, headers=admin.headers | GERMAN)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert [e["field"] for e in problem["errors"]] == [field], (body, problem)
        assert problem["detail"] == f"Bitte prüfen: {field}."


async def test_values_no_database_can_store_are_named(client, factory):
    """2^63, ids beyond 32 bits, times at the ends of the calendar and NUL characters used to
    be a 422 ``out-of-range`` without ``errors`` (or a stored NUL on SQLite); now each field
    is named, on both backends, before the database sees the value."""
    root, admin = await admin_of_root(factory)
    await factory.enable(root["id"], "events")
    people = f"/api/orgs/{root['id']}/people/"
    events = f"/api/orgs/{root['id']}/events/"

    def event(start: str, end: str) -> dict:
        return {"title": "Infostand", "type": "info_stand", "start_at": start, "end_at": end}

    number, no_id, nul, date = (
        "Zahl außerhalb des erlaubten Bereichs",
        "kein Objekt hat diese ID",
        "Text darf das NUL-Zeichen nicht enthalten",
        "Datum außerhalb des erlaubten Bereichs",
    )
    cases = [
        ("/api/orgs", {"name": "X", "kind": "x", "parent_id": 2**63}, {"parent_id": number}),
        (people, {"first_name": "Rosa", "home_org_id": 2**40}, {"home_org_id": no_id}),
        (people, {"first_name": "Ro\u0000sa"}, {"first_name": nul}),
        (people, {"first_name": "Rosa", "tags": ["ok", "n\u0000"]}, {"tags[1]": nul}),
        (
            people,
            {"first_name": "Rosa", "custom_fields": {"x": -(2**64)}},
            {"custom_fields.x": number},
        ),
        (
            events,
            event("0001-01-01T00:00:00+01:00", "0001-01-01T02:00:00+01:00"),
            {"start_at": date, "end_at": date},
        ),
        (
            events,
            event("9999-12-31T20:00:00-05:00", "9999-12-31T21:00:00-05:00"),
            {"start_at": date, "end_at": date},
        ),
        (events, event("2030-05-01T10:00:00Z", "9999-12-31T23:59:00Z"), {"end_at": date}),
    ]
    for path, body, errors in cases:
        response = await client.post(path, json=body, headers=admin.headers | GERMAN)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["type"] == "urn:orga:problem:out-of-range"
        assert {e["field"]: e["message"] for e in problem["errors"]} == errors
        assert problem["title"] == "Wert außerhalb des Bereichs"
        assert problem["detail"].startswith("Eine Zahl, ein Datum oder ein Text")
    assert (await client.get(people, headers=admin.headers)).json()["items"] == []


async def test_a_value_the_database_refuses_in_a_query_is_named(client, factory):
    """A query value no time zone takes reaches the database, which refuses it; the answer
    still names the parameter."""
    root, admin = await admin_of_root(factory)
    response = await client.get(
        f"/api/orgs/{root['id']}/audit",
        params={"since": "0001-01-01T00:00:00+01:00"},
        headers=admin.headers | GERMAN,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:orga:problem:out-of-range"
    assert problem["errors"] == [
        {"field": "since", "message": "Datum außerhalb des erlaubten Bereichs"}
    ]


async def test_details_are_in_the_readers_language(client, factory):
    """The title was German and the detail English."""
    root, admin = await admin_of_root(factory)
    missing = f"/api/orgs/{root['id']}/people/999"
    answers = {
        "de": "Nicht vorhanden oder für dich nicht sichtbar: Person.",
        "sv": "Finns inte eller är inte synlig för dig: person.",
        "en": "The person does not exist or is not visible to you.",
    }
    for language, detail in answers.items():
        response = await client.get(missing, headers=admin.headers | {"accept-language": language})
        assert response.status_code == 404
        assert response.json()["detail"] == detail
    malformed = await client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.json()["detail"] == "Der Inhalt der Anfrage ist kein gültiges JSON."
    assert malformed.json()["errors"][0]["field"] == "body"
    route = await client.get("/api/does-not-exist", headers=GERMAN)
    assert route.json()["title"] == "Nicht gefunden"
    assert "detail" not in route.json()  # Litestar's "Not Found" only repeated the status
    wrong_id = await client.get(
        f"/api/orgs/{root['id']}/people/", params={"person_id": 2**40}, headers=admin.headers
    )
    assert wrong_id.json()["detail"] == "kein Objekt hat diese ID"


def test_every_object_name_of_a_not_found_is_in_the_catalog(app):
    """The names ``not_found`` and ``get_in_org`` are called with, and those of the id path
    parameters (``ids_in_range``), are translated in the 404's sentence."""
    import re
    from pathlib import Path

    from core.problems import OBJECT_NAMES

    root = Path(__file__).resolve().parents[2]
    called = re.compile(r'(?:not_found\(|get_in_org\([^()]*?,\s*)"([^"]+)"\)')
    names = {
        name
        for folder in ("core", "plugins")
        for source in (root / folder).rglob("*.py")
        for name in called.findall(source.read_text())
    }
    for route in app.routes:
        names |= {
            p.removesuffix("_id").replace("_", " ") for p in route.path_parameters if "_id" in p
        }
    assert len(names) > 20
    assert sorted(names - set(OBJECT_NAMES)) == []


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
