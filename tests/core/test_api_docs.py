"""The API documentation at ``/schema`` works offline: Swagger UI's files come from an installed
Python package and our own origin, the page has no inline code, and its CSP allows nothing
from elsewhere."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from swagger_ui_bundle import swagger_ui_path

from core.http import DOCS_CSP
from core.testing import TEST_PASSWORD

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


async def test_docs_page_loads_only_our_own_files(client):
    page = await client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "'unsafe-inline'" not in DOCS_CSP and "'unsafe-eval'" not in DOCS_CSP
    assert "script-src 'self';" in DOCS_CSP and "connect-src 'self';" in DOCS_CSP
    html = page.text
    assert "//" not in re.sub(r"<!DOCTYPE html>", "", html).replace("://", ""), "no URLs"
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/schema/assets/' in attrs and not body for attrs, body in scripts)
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and all(link.startswith("/schema/") for link in links), links
    assert 'data-url="/schema/openapi.json"' in html
    for link in links:
        if link.startswith("/schema/assets/"):
            asset = await client.get(link)
            assert asset.status_code == 200, link
            assert asset.headers["content-security-policy"] == DOCS_CSP


async def test_swagger_ui_comes_from_the_installed_package(client):
    bundle = await client.get("/schema/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert bundle.content == (Path(str(swagger_ui_path)) / "swagger-ui-bundle.js").read_bytes()
    css = await client.get("/schema/assets/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await client.get("/schema/assets/index.html")).status_code == 404
    assert (await client.get("/schema/assets/..%2F..%2Fsettings.py")).status_code == 404
    assert (await client.get("/schema/scalar")).status_code == 404  # the CDN page is gone
    assert (await client.get("/schema/openapi.json")).status_code == 200


@pytest.fixture
async def js_page():
    """Headless Chromium with JavaScript on (Swagger UI is a script), offline but loopback."""
    from playwright.async_api import async_playwright

    executable = os.environ.get("ORGA_CHROMIUM", "/usr/bin/chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        context = await browser.new_context(java_script_enabled=True)
        page = await context.new_page()
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


async def test_swagger_ui_renders_in_a_browser_under_the_csp(live_server, js_page, screenshot_dir):
    origins: set[str] = set()
    console: list[str] = []
    js_page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))
    js_page.on("console", lambda message: console.append(message.text))
    js_page.on("pageerror", lambda error: console.append(str(error)))
    response = await js_page.goto(live_server.url + "/schema")
    assert response.status == 200
    title = js_page.locator(".swagger-ui .info .title")
    await title.wait_for(timeout=20_000)
    assert "orga API" in await title.inner_text()
    await js_page.locator(".opblock").first.wait_for(timeout=20_000)
    assert await js_page.locator(".opblock").count() > 50
    await js_page.locator("#operations-auth-auth_login .opblock-summary").click()
    await js_page.locator("#operations-auth-auth_login .opblock-body").wait_for(timeout=10_000)
    await js_page.screenshot(path=str(screenshot_dir / "api-docs.png"))
    assert origins == {urlsplit(live_server.url).netloc}
    assert [line for line in console if "Content Security Policy" in line] == []


async def test_the_api_guide_examples_run(live_server, factory):
    """The ``sh`` blocks of docs/api.md, in order, as one script with curl and jq."""
    org = await factory.org("Bund", kind="federal")
    await factory.enable(org["id"], "events")
    await factory.user("admin", org["id"], email="guide@example.org")
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 5
    environ = {
        "PATH": os.environ["PATH"],
        "ORGA": live_server.url,
        "EMAIL": "guide@example.org",
        "PASSWORD": TEST_PASSWORD,
    }
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + "\n".join(blocks)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert '"type":"urn:orga:problem:validation-error"' in result.stdout.replace(" ", "")
    assert "Rosa Luxemburg" in result.stdout
    assert result.stdout.strip().endswith("204")
