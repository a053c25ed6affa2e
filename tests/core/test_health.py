"""GET /api/health and the OpenAPI schema."""

from __future__ import annotations


async def test_health_reports_database_migrations_and_modules(client):
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["migrations_current"] is True
    assert body["pending_migrations"] == []
    names = {m["name"] for m in body["modules"]}
    assert {"calling", "events", "mailings", "linksaktiv"} <= names


async def test_openapi_schema_is_3_1_and_lists_module_routes(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/orgs/{org_id}/calling/assignments" in schema["paths"]
    ui = await client.get("/schema")
    assert ui.status_code == 200
    assert "text/html" in ui.headers["content-type"]


async def test_security_headers_on_every_response(client):
    response = await client.get("/api/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers
