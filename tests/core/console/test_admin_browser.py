"""Unit administration in Chromium (issue #24 item 5): a district admin creates a subunit,
switches a module off for it and sees the module's menu entry vanish there, invites a user by
e-mail, edits postal codes (the broken rule beside the field), reads the audit log filtered by
action; every page passes axe-core (WCAG 2.1 A/AA) and reflows at 320 px; another district's
administration answers 404.

The module is a small plugin registered in this test (no shipped module has console pages
yet), so the app runs in the test's process: uvicorn on the test's event loop serves the
``app`` fixture, whose lifespan the ``client`` fixture already runs.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator

import pytest
import uvicorn
from litestar import Request, Response, get

from core import ConsolePages, MenuItem, Module, hookimpl
from core._pgserver import free_port
from core.api import render_console
from core.orgs.coverage import change_coverage
from core.testing import assert_accessible, console_log_in, console_menu, next_page


@get("/")
async def petitions_page(request: Request) -> Response[str]:
    """The test module's one page."""
    return await render_console(request, "console/layout.html.jinja", title="Petitionen")


@hookimpl
def register_module() -> Module:
    return Module(name="petitions", title="Petitionen", version="0")


@hookimpl
def register_pages() -> ConsolePages:
    return ConsolePages(handlers=[petitions_page], menu=[MenuItem(label="Petitionen", order=50)])


PETITIONS = types.SimpleNamespace(
    register_module=register_module, register_pages=register_pages, __name__="petitions"
)


@pytest.fixture
def orga_plugins():
    return [PETITIONS]


@pytest.fixture
async def app_server(app, client) -> AsyncIterator[str]:
    """The app over real HTTP from this process (its lifespan already runs for ``client``)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    while not server.started:
        assert not serving.done(), serving.exception()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _menu(page) -> str:
    return await page.inner_text("nav.menu")


async def test_an_admin_runs_a_district_by_keyboard_and_mouse(
    client, factory, app_server, console_page, screenshot_dir
):
    root = await factory.org("Die Partei", kind="federal")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    await change_coverage({leipzig["id"]: [("04000", "04999")]}, None)
    await factory.enable(leipzig["id"], "petitions")
    admin = await factory.user("admin", leipzig["id"])
    page = console_page
    base = f"{app_server}/app/orgs/{leipzig['id']}"

    await console_log_in(page, app_server, admin.email, leipzig["id"])
    assert "Petitionen" in await _menu(page)

    await console_menu(page, "Verwaltung")
    await page.wait_for_url(f"{base}/admin")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-admin.png"), full_page=True)

    # a subunit, typed by keyboard
    await page.click("main >> text=Untergliederungen")
    await page.wait_for_url(f"{base}/admin/units")
    await assert_accessible(page)
    await page.focus("#f-name")
    await page.keyboard.type("OV Süd")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Ortsgruppe")
    async with next_page(page):
        await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/admin/units")
    assert "OV Süd ist angelegt." in await page.inner_text("[role=status]")
    await page.click("main table >> text=OV Süd")
    await page.wait_for_url("**/app/orgs/*")
    sub = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert sub not in (root["id"], leipzig["id"], dresden["id"])
    assert "Petitionen" in await _menu(page)  # on in KV Leipzig, so on below it

    # the module switched off for the subunit: its menu entry vanishes there, only there
    await page.goto(f"{app_server}/app/orgs/{sub}/admin/modules")
    await assert_accessible(page)
    row = page.locator("tr", has_text="Petitionen")
    assert "geerbt von KV Leipzig" in await row.inner_text()
    async with next_page(page):
        await row.locator("button").click()
    await page.wait_for_url(f"**/app/orgs/{sub}/admin/modules")
    assert "Petitionen ist hier jetzt ausgeschaltet." in await page.inner_text("[role=status]")
    assert "Petitionen" not in await _menu(page)
    assert "hier" in await page.locator("tr", has_text="Petitionen").inner_text()
    gone = await page.goto(f"{app_server}/app/orgs/{sub}/petitions")
    assert gone.status == 404
    await page.goto(base)
    assert "Petitionen" in await _menu(page)

    # invite someone by e-mail
    await page.goto(f"{app_server}/app/orgs/{sub}/admin/members")
    await assert_accessible(page)
    await page.fill("#f-email", "neu@example.org")
    await page.select_option("#f-role", "caller")
    async with next_page(page):
        await page.click("#add-h ~ form button[type=submit]")
    await page.wait_for_url(f"**/app/orgs/{sub}/admin/members")
    assert "neu@example.org hat die Rolle jetzt" in await page.inner_text("[role=status]")
    assert "neu@example.org" in await page.inner_text("main table")
    await assert_accessible(page)

    # postal codes: the broken rule stands beside the field
    await page.goto(f"{app_server}/app/orgs/{sub}/admin/postcodes")
    await page.fill("#f-postal_codes", "04109\n01067")
    async with next_page(page):
        await page.click("main form button[type=submit]")
    error = await page.inner_text("#f-postal_codes-error")
    assert error == "„01067“ liegt außerhalb des Gebiets der übergeordneten Gliederung"
    assert await page.get_attribute("#f-postal_codes", "aria-invalid") == "true"
    await assert_accessible(page)
    await page.fill("#f-postal_codes", "04109")
    async with next_page(page):
        await page.click("main form button[type=submit]")
    await page.wait_for_url(f"**/app/orgs/{sub}/admin/postcodes")
    assert await page.input_value("#f-postal_codes") == "04109"

    for path in ("admin/unit", "admin/tokens"):
        await page.goto(f"{app_server}/app/orgs/{sub}/{path}")
        await assert_accessible(page)

    # the audit log, filtered by action
    await page.goto(base)
    await console_menu(page, "Protokoll")
    await page.wait_for_url(f"{base}/audit")
    await page.fill("#f-action", "module.disabled")
    await page.press("#f-action", "Enter")
    await page.wait_for_url(f"{base}/audit?*")
    table = await page.inner_text("main table")
    assert "module.disabled" in table and "OV Süd" in table and "org.created" not in table
    await assert_accessible(page)
    await page.screenshot(path=str(screenshot_dir / "console-audit.png"), full_page=True)

    # another district's administration is not there for this admin
    for path in ("admin", "admin/members", "audit"):
        other = await page.goto(f"{app_server}/app/orgs/{dresden['id']}/{path}")
        assert other.status == 404, path
