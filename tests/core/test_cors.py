"""CORS is off by default and allowed per configured origin."""

from __future__ import annotations

import pytest

PREFLIGHT = {"Origin": "https://partei.example", "Access-Control-Request-Method": "POST"}


async def test_cors_is_off_by_default(client):
    response = await client.get("/api/health", headers={"Origin": "https://partei.example"})
    assert "access-control-allow-origin" not in response.headers


class TestConfiguredOrigin:
    @pytest.fixture
    def orga_overrides(self):
        return {"cors_origins": ("https://partei.example",)}

    async def test_configured_origin_is_allowed_others_not(self, client):
        allowed = await client.options("/api/auth/login", headers=PREFLIGHT)
        assert allowed.status_code in (200, 204)
        assert allowed.headers["access-control-allow-origin"] == "https://partei.example"
        other = await client.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

    async def test_browser_clients_read_request_id_retry_after_and_etag(self, client):
        response = await client.get("/api/health", headers={"Origin": "https://partei.example"})
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"x-request-id", "retry-after", "etag"} <= exposed

    async def test_browser_clients_may_send_if_match(self, client):
        preflight = await client.options(
            "/api/orgs/1/people/1",
            headers={
                "Origin": "https://partei.example",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type, if-match",
            },
        )
        assert preflight.status_code in (200, 204), preflight.text
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "if-match" in allowed
