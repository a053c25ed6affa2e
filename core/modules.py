"""The module system: discovery through entry points, ``ORGA_MODULES``, and hook calls.

A :class:`ModuleRegistry` is built inside ``create_app`` (and by the CLI), never kept as a
module-level global. It owns one pluggy ``PluginManager`` with core's own plugin plus every
enabled module.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from core.hookspecs import PROJECT, Module, ModuleRoutes, OrgaSpec, Permission
from core.settings import Settings, SettingsError

__all__ = ["ENTRY_POINT_GROUP", "LoadedModule", "ModuleError", "ModuleRegistry", "load_modules"]

ENTRY_POINT_GROUP = "orga.plugins"
CORE = "core"
CORE_PLUGIN = "core._builtin"
"""Core's own plugin, loaded by its dotted path as a module is by its entry point: it registers
core's routes, pages, jobs and commands, so it stands above all of them, and above this
registry that every one of them may be handed."""


class ModuleError(Exception):
    """A module cannot be loaded; the message names the package and the problem."""


@dataclass(frozen=True)
class LoadedModule:
    """An enabled module: its identity, plugin object and where it came from."""

    info: Module
    plugin: Any
    package: str
    piccolo_app: str | None
    template_dirs: tuple[Path, ...]


@dataclass
class ModuleRegistry:
    """Core plus the enabled modules, with helpers to call hooks per module."""

    pm: pluggy.PluginManager
    modules: dict[str, LoadedModule]
    installed: tuple[str, ...]
    permissions: dict[str, Permission] = field(default_factory=dict)

    @property
    def piccolo_apps(self) -> list[str]:
        """Dotted piccolo_app paths: core's first, then each module's."""
        apps = [self.pm.get_plugin(CORE).register_piccolo_app()]
        apps += [m.piccolo_app for m in self.modules.values() if m.piccolo_app]
        return apps

    @property
    def template_dirs(self) -> list[Path]:
        """Module template folders in load order."""
        return [d for m in self.modules.values() for d in m.template_dirs]

    def call_each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a build-time hook once per plugin, core's first; return ``(plugin name,
        result)`` pairs."""
        impls = list(reversed(getattr(self.pm.hook, hook).get_hookimpls()))
        impls.sort(key=lambda impl: impl.plugin_name != CORE)
        results = []
        for impl in impls:
            args = {name: kwargs[name] for name in impl.argnames}
            result = impl.function(**args)
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def routes(self, segment: type[Any]) -> list[tuple[str, ModuleRoutes]]:
        """Core's routes, then each enabled module's (``segment``: the deployment's segment
        type, for handlers whose body is typed with it)."""
        return self.call_each("register_routes", segment=segment)

    async def gather(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a runtime hook and await each implementation in turn; drop ``None`` results."""
        results = []
        for pending in getattr(self.pm.hook, hook)(**kwargs):
            value = await pending if hasattr(pending, "__await__") else pending
            if value is not None:
                results.append(value)
        return results

    async def gather_each(
        self, hook: str, *, only: Iterable[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Await a runtime hook per plugin (with ``only``: just those plugins); return
        ``(plugin name, result)`` pairs, no ``None``."""
        wanted = None if only is None else set(only)
        results = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if wanted is not None and impl.plugin_name not in wanted:
                continue
            value = impl.function(**{name: kwargs[name] for name in impl.argnames})
            if hasattr(value, "__await__"):
                value = await value
            if value is not None:
                results.append((impl.plugin_name, value))
        return results

    def module_of(self, plugin_name: str) -> LoadedModule | None:
        """The enabled module registered under ``plugin_name``."""
        return self.modules.get(plugin_name)


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def _package_name(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} ({ep.value})" if dist is not None else ep.value


def _load_entry_point(ep: importlib.metadata.EntryPoint) -> ModuleType:
    try:
        return ep.load()
    except Exception as exc:
        raise ModuleError(
            f"module '{ep.name}' from package {_package_name(ep)} failed to import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _default_template_dirs(plugin: Any) -> list[Path]:
    origin = getattr(plugin, "__file__", None)
    if origin:
        folder = Path(origin).parent / "templates"
        if folder.is_dir():
            return [folder]
    return []


def _register(pm: pluggy.PluginManager, plugin: Any, package: str) -> tuple[str, LoadedModule]:
    register = getattr(plugin, "register_module", None)
    if register is None:
        raise ModuleError(f"package {package}: missing hook register_module()")
    info = register()
    if not isinstance(info, Module):
        raise ModuleError(f"package {package}: register_module() must return core.Module")
    if info.name == CORE or pm.get_plugin(info.name) is not None:
        other = pm.get_plugin(info.name)
        where = getattr(other, "__name__", repr(other))
        raise ModuleError(
            f"package {package}: module name '{info.name}' is already used by {where}"
        )
    try:
        pm.register(plugin, name=info.name)
    except ValueError as exc:
        raise ModuleError(f"package {package}: {exc}") from exc
    get_app = getattr(plugin, "register_piccolo_app", None)
    get_dirs = getattr(plugin, "register_template_dirs", None)
    dirs = [Path(d) for d in (get_dirs() if get_dirs else [])]
    loaded = LoadedModule(
        info=info,
        plugin=plugin,
        package=package,
        piccolo_app=get_app() if get_app else None,
        template_dirs=tuple(dirs + _default_template_dirs(plugin)),
    )
    return info.name, loaded


def _references_people(table: Any) -> bool:
    for column in table._meta.columns:
        if column._meta.db_column_name == "person_id":
            return True
        meta = getattr(column, "_foreign_key_meta", None)
        if meta is not None and meta.resolved_references._meta.tablename == "person":
            return True
    return False


def _check_data_protection(loaded: LoadedModule) -> None:
    """A module whose tables reference people must export and erase their data."""
    if not loaded.piccolo_app:
        return
    config = importlib.import_module(loaded.piccolo_app).APP_CONFIG
    missing = [
        hook for hook in ("person_export", "person_erase") if not hasattr(loaded.plugin, hook)
    ]
    tables = [t._meta.tablename for t in config.table_classes if _references_people(t)]
    if tables and missing:
        raise ModuleError(
            f"module '{loaded.info.name}' from package {loaded.package}: table "
            f"{', '.join(tables)} holds data about people, but the module lacks "
            f"{' and '.join(missing)} (data protection is not optional)"
        )


def _collect_permissions(registry: ModuleRegistry) -> None:
    owners: dict[str, str] = {}
    for plugin_name, permissions in registry.call_each("register_permissions"):
        for permission in permissions:
            if permission.name in owners:
                raise ModuleError(
                    f"module '{plugin_name}': permission '{permission.name}' is already "
                    f"defined by '{owners[permission.name]}'"
                )
            owners[permission.name] = plugin_name
            registry.permissions[permission.name] = permission


def load_modules(settings: Settings, extra: Iterable[Any] = ()) -> ModuleRegistry:
    """Discover modules, apply ``ORGA_MODULES`` and build the plugin manager.

    Args:
        settings: the deployment settings (``modules`` filters by name; ``None`` = all).
        extra: plugin objects registered in addition to installed packages (tests, embedding).

    Raises:
        ModuleError: a module fails to import, lacks ``register_module``, repeats a name or a
            permission, or implements a hook that does not exist.
        SettingsError: ``ORGA_MODULES`` names a module that is not installed.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(OrgaSpec)
    pm.register(importlib.import_module(CORE_PLUGIN), name=CORE)
    entry_points = _entry_points()
    extra = list(extra)
    extra_names = [p.register_module().name for p in extra if hasattr(p, "register_module")]
    installed = tuple(sorted({ep.name for ep in entry_points} | set(extra_names)))
    wanted = _wanted_names(settings.modules, installed)
    modules: dict[str, LoadedModule] = {}
    candidates: list[tuple[Any, str]] = [
        (_load_entry_point(ep), _package_name(ep)) for ep in entry_points if ep.name in wanted
    ]
    candidates += [(p, getattr(p, "__name__", repr(p))) for p in extra]
    for plugin, package in candidates:
        name, loaded = _register(pm, plugin, package)
        if name not in wanted:
            pm.unregister(plugin)
            continue
        _check_data_protection(loaded)
        modules[name] = loaded
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        problem = str(exc).split(" in plugin ")[0]
        raise ModuleError(f"module '{name}': {problem}") from exc
    registry = ModuleRegistry(pm=pm, modules=modules, installed=installed)
    _collect_permissions(registry)
    return registry


def _wanted_names(selected: Sequence[str] | None, installed: Sequence[str]) -> set[str]:
    if selected is None:
        return set(installed)
    unknown = sorted(set(selected) - set(installed))
    if unknown:
        raise SettingsError(
            f"ORGA_MODULES: unknown module {', '.join(map(repr, unknown))} "
            f"(installed: {', '.join(installed) or 'none'})"
        )
    return set(selected)
