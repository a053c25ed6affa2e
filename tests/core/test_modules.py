"""The module contract: a throw-away module, ORGA_MODULES, and clear errors for broken modules."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
import uuid
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from core import db
from core.app import create_app
from core.modules import ModuleError, load_modules
from core.settings import SettingsError, load_settings
from core.testing import OrgaFactory

WIDGET_INIT = """
from litestar import get
from core import Module, ModuleRoutes, Permission, hookimpl
from core.api import OrgScope, requires


@hookimpl
def register_module():
    return Module(name="{name}", title="Widgets", version="9.9")


@hookimpl
def register_piccolo_app():
    return "{pkg}.piccolo_app"


@hookimpl
def register_permissions():
    return [Permission(name="{name}.view", description="see widgets", default_roles=("admin",))]


@get("/")
async def list_widgets(org: OrgScope) -> list[dict]:
    from {pkg}.tables import Widget
    return await Widget.select(Widget.label).where(Widget.org_id == org.id).run()


@hookimpl
def register_routes():
    list_widgets.guards = [requires("{name}.view")]
    return ModuleRoutes(org=[list_widgets])
"""

WIDGET_TABLES = """
from piccolo.columns import Integer, Varchar
from piccolo.table import Table


class Widget(Table, tablename="{name}_widget"):
    org_id = Integer()
    label = Varchar(length=50)
"""

WIDGET_APP = """
from pathlib import Path
from piccolo.conf.apps import AppConfig
from {pkg}.tables import Widget

APP_CONFIG = AppConfig(
    app_name="{name}",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Widget],
    migration_dependencies=["core.piccolo_app"],
)
"""

WIDGET_MIGRATION = """
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-01-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "widget table"


async def forwards():
    from {pkg}.tables import Widget

    manager = MigrationManager(migration_id=ID, app_name="{name}", description=DESCRIPTION)

    async def create():
        await Widget.create_table().run()

    manager.add_raw(create)
    return manager
"""


def write_module(root: Path) -> tuple[str, str]:
    """Write a throw-away module package with a table, a migration and a route."""
    token = uuid.uuid4().hex[:8]
    name, pkg = f"widgets{token}", f"widgets_pkg_{token}"
    folder = root / pkg
    (folder / "piccolo_migrations").mkdir(parents=True)
    fill = {"name": name, "pkg": pkg}
    (folder / "__init__.py").write_text(WIDGET_INIT.format(**fill))
    (folder / "tables.py").write_text(WIDGET_TABLES.format(**fill))
    (folder / "piccolo_app.py").write_text(WIDGET_APP.format(**fill))
    (folder / "piccolo_migrations" / "__init__.py").write_text("")
    (folder / "piccolo_migrations" / f"{name}_2026_01_01.py").write_text(
        WIDGET_MIGRATION.format(**fill)
    )
    return name, pkg


@pytest.fixture
def widget_module(tmp_path):
    sys.path.insert(0, str(tmp_path))
    name, pkg = write_module(tmp_path)
    yield name, importlib.import_module(pkg)
    sys.path.remove(str(tmp_path))


async def test_throwaway_module_is_migrated_routed_and_unregistered(widget_module, orga_settings):
    name, plugin = widget_module

    async def call(app, path, headers):
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return await http.get(path, headers=headers)

    app = create_app(orga_settings, plugins=[plugin])
    async with LifespanManager(app):
        assert await db.pending_migrations() == ["2026-01-01T00:00:00:000000"]
        await db.migrate()
        assert await db.pending_migrations() == []
        factory = OrgaFactory()
        org = await factory.org(kind="federal")
        admin = await factory.user("admin", org["id"])
        await factory.enable(org["id"], name)
        await db.execute(
            f"INSERT INTO {name}_widget (org_id, label) VALUES ({{}}, {{}})", org["id"], "red"
        )
    response = await call(app, f"/api/orgs/{org['id']}/{name}/", admin.headers)
    assert response.status_code == 200
    assert response.json() == [{"label": "red"}]
    health = await call(app, "/api/health", {})
    assert name in {m["name"] for m in health.json()["modules"]}

    without = create_app(orga_settings, plugins=[])
    response = await call(without, f"/api/orgs/{org['id']}/{name}/", admin.headers)
    assert response.status_code == 404
    health = await call(without, "/api/health", {})
    assert name not in {m["name"] for m in health.json()["modules"]}


def test_orga_modules_selects_modules():
    settings = load_settings(
        environ={"ORGA_MODULES": "calling"}, var_dir="/tmp/orga-unused", secret_key="k" * 40
    )
    registry = load_modules(settings)
    assert set(registry.modules) == {"calling"}
    assert "calling.call" in registry.permissions
    assert "events.manage" not in registry.permissions
    assert registry.piccolo_apps == ["core.piccolo_app", "plugins.calling.piccolo_app"]


def test_unknown_module_in_orga_modules_names_the_setting():
    settings = load_settings(
        environ={"ORGA_MODULES": "calling,petitions"},
        var_dir="/tmp/orga-unused",
        secret_key="k" * 40,
    )
    with pytest.raises(SettingsError, match="ORGA_MODULES: unknown module 'petitions'"):
        load_modules(settings)


def _plugin_source(body: str, tmp_path: Path) -> object:
    token = uuid.uuid4().hex[:8]
    pkg = f"plug_{token}"
    (tmp_path / f"{pkg}.py").write_text(textwrap.dedent(body))
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(pkg)
    finally:
        sys.path.remove(str(tmp_path))


def test_duplicate_module_name_is_refused(tmp_path):
    clone = _plugin_source(
        """
        from core import Module, hookimpl

        @hookimpl
        def register_module():
            return Module(name="calling", title="Impostor")
        """,
        tmp_path,
    )
    settings = load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)
    with pytest.raises(ModuleError, match="module name 'calling' is already used"):
        load_modules(settings, extra=[clone])


def test_duplicate_permission_is_refused(tmp_path):
    plugin = _plugin_source(
        """
        from core import Module, Permission, hookimpl

        @hookimpl
        def register_module():
            return Module(name="copycat", title="Copycat")

        @hookimpl
        def register_permissions():
            return [Permission(name="calling.call", description="again")]
        """,
        tmp_path,
    )
    settings = load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)
    with pytest.raises(ModuleError, match=r"permission 'calling\.call' is already defined"):
        load_modules(settings, extra=[plugin])


def test_unknown_hook_name_is_refused(tmp_path):
    plugin = _plugin_source(
        """
        from core import Module, hookimpl

        @hookimpl
        def register_module():
            return Module(name="typo", title="Typo")

        @hookimpl
        def register_rouets():
            return []
        """,
        tmp_path,
    )
    settings = load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)
    with pytest.raises(ModuleError, match="typo"):
        load_modules(settings, extra=[plugin])


def test_module_that_fails_to_import_names_its_package(tmp_path, monkeypatch):
    (tmp_path / "broken_pkg.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = importlib.metadata.EntryPoint(name="broken", value="broken_pkg", group="orga.plugins")
    real = importlib.metadata.entry_points(group="orga.plugins")
    monkeypatch.setattr("core.modules._entry_points", lambda: [*real, broken])
    settings = load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)
    with pytest.raises(ModuleError, match="module 'broken' from package broken_pkg failed"):
        load_modules(settings)
    excluded = load_settings(
        environ={"ORGA_MODULES": "calling,events"}, var_dir=str(tmp_path), secret_key="k" * 40
    )
    assert set(load_modules(excluded).modules) == {"calling", "events"}


def test_module_without_register_module_is_refused(tmp_path):
    plugin = _plugin_source(
        """
        from core import hookimpl

        @hookimpl
        def register_permissions():
            return []
        """,
        tmp_path,
    )
    settings = load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)
    with pytest.raises(ModuleError, match="missing hook register_module"):
        load_modules(settings, extra=[plugin])
