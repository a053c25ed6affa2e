"""Core's layers: no import circles, ``core.api`` as the modules' only door, core's own plugin.

The import graph is read as import-linter reads it (grimp), with imports inside functions and
under ``TYPE_CHECKING`` counted: a circle hidden in a function is still a circle.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import click
import grimp
import pytest

from core.modules import CORE, ModuleError, load_modules
from core.scaffold import write_module_package
from core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def core_graph() -> grimp.ImportGraph:
    return grimp.build_graph("core", cache_dir=None)


def _circles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, without recursion)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if child < len(edges[node]):
                work.append((node, child + 1))
                target = edges[node][child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return circles


def test_core_has_no_import_circles(core_graph):
    assert _circles(core_graph, set(core_graph.modules)) == []


def test_the_circle_finder_finds_a_circle(core_graph):
    graph = grimp.ImportGraph()
    for name in ("a", "b", "c"):
        graph.add_module(name)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="a")
    graph.add_import(importer="b", imported="c")
    assert _circles(graph, {"a", "b", "c"}) == [["a", "b"]]


def test_core_api_only_hands_names_on(core_graph):
    tree = ast.parse((ROOT / "core" / "api.py").read_text())
    defined = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        or (isinstance(node, ast.Assign) and node.targets[0].id != "__all__")  # type: ignore[attr-defined]
    ]
    assert defined == []
    importers = core_graph.find_modules_that_directly_import("core.api")
    assert {m for m in importers if m.startswith("core")} == set()


def test_context_stands_below_the_runtime(core_graph):
    from core.runtime import Runtime

    assert Runtime.__module__ == "core.runtime"
    assert core_graph.find_modules_directly_imported_by("core.context") == set()


def test_lint_imports_holds_the_modules_to_core_api():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert "modules import only core, core.api and core.testing KEPT" in result.stdout
    assert "only modules import core.api (core imports its own parts) KEPT" in result.stdout
    assert result.returncode == 0, result.stdout


def _settings(tmp_path):
    return load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)


def test_core_registers_its_jobs_commands_and_routes_through_its_hooks(tmp_path):
    registry = load_modules(_settings(tmp_path))
    name, jobs = registry.call_each("register_jobs")[0]
    assert name == CORE
    assert {"mail.send", "people.import", "people.import_expire"} <= set(jobs)
    group = click.Group("orga")
    registry.call_each("register_commands", cli=group)
    assert {"people", "orgs"} <= set(group.commands)
    name, routes = registry.routes(segment=dict)[0]
    assert name == CORE
    paths = set()
    for handler in routes.api:  # a route handler has its paths, a router one path
        paths |= set(getattr(handler, "paths", None) or {handler.path})
    assert {"/api/health", "/api/orgs/{org_id:int}/segments"} <= paths


def test_a_module_cannot_take_a_job_kind_of_core(tmp_path):
    from types import SimpleNamespace

    from core import Module, hookimpl
    from core.runtime import build_runtime

    @hookimpl
    def register_module():
        return Module(name="mailer", title="Mailer")

    @hookimpl
    def register_jobs():
        async def send(payload):
            return None

        return {"mail.send": send}

    plugin = SimpleNamespace(
        register_module=register_module, register_jobs=register_jobs, __name__="mailer"
    )
    url = f"sqlite:///{tmp_path / 'orga.db'}"
    runtime = build_runtime(
        load_settings(environ={}, database_url=url, var_dir=str(tmp_path), modules=("mailer",)),
        [plugin],
    )
    with pytest.raises(
        ModuleError, match=r"module 'mailer': job kind 'mail\.send' is already taken"
    ):
        runtime.job_handlers()


def test_a_new_module_imports_only_core_and_core_api(tmp_path):
    root = write_module_package("petitions", tmp_path)
    allowed = {"core", "core.api", "core.testing"}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] == "core":
                    assert name in allowed, f"{path.relative_to(root)} imports {name}"
                    if name == "core.testing":
                        assert "tests" in path.parts
