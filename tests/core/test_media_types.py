"""Content types parse under strict rules (issue #23, item 5): one charset, no duplicate
parameter (Go's mime.ParseMediaType, so Prometheus 3, rejects a repeated one)."""

from __future__ import annotations

import pytest


def strict_media_type(value: str) -> tuple[str, dict[str, str]]:
    """Parse like Go's ``mime.ParseMediaType``: a duplicate parameter is an error."""
    kind, *parts = [part.strip() for part in value.split(";")]
    params: dict[str, str] = {}
    for part in parts:
        name, _, param = part.partition("=")
        name = name.strip().lower()
        if name in params:
            raise ValueError(f"duplicate parameter {name!r} in {value!r}")
        params[name] = param.strip()
    return kind, params


async def test_pages_say_utf_8_once(client):
    page = await client.get("/p/auth/reset/not-a-token")
    assert strict_media_type(page.headers["content-type"]) == ("text/html", {"charset": "utf-8"})


class TestMetrics:
    @pytest.fixture
    def orga_overrides(self):
        return {"metrics": True, "metrics_token": "m" * 32}

    async def test_metrics_parse_strictly(self, client):
        response = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        kind, params = strict_media_type(response.headers["content-type"])
        assert kind == "text/plain" and params["charset"] == "utf-8" and "version" in params
