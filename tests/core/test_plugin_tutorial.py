"""The tutorial in docs/plugins.md runs: its files are extracted, loaded and exercised."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pluggy
import pytest

from core.hookspecs import PROJECT, OrgaDeprecationWarning, deprecated_hookspec, hookimpl

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<code>.*?)```", re.S)


def extract(target: Path) -> list[str]:
    written = []
    for match in BLOCK.finditer(DOC.read_text()):
        path = target / match["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(match["code"])
        written.append(match["path"])
    return written


def test_tutorial_has_every_file_of_a_module(tmp_path):
    files = extract(tmp_path)
    assert {
        "pyproject.toml",
        "orga_petitions/__init__.py",
        "orga_petitions/tables.py",
        "orga_petitions/routes.py",
        "orga_petitions/services.py",
        "orga_petitions/piccolo_app.py",
        "tests/test_petitions.py",
    } <= set(files)


def test_tutorial_routes_follow_the_rules_of_core_routes(tmp_path):
    """The tutorial's routes parse, call its services and answer (as every route in orga)."""
    from tests.core.test_audit_writer import _data_calls

    extract(tmp_path)
    assert _data_calls(tmp_path / "orga_petitions" / "routes.py") == set()
    assert _data_calls(tmp_path / "orga_petitions" / "services.py") >= {"db.fetch", "record"}


def test_tutorial_code_passes_its_own_test(tmp_path, orga_backend):
    extract(tmp_path)
    conftest = tmp_path / "tests" / "conftest.py"
    # Not installed here, so hand the module to orga's fixtures explicitly.
    conftest.write_text(
        "import pytest\nimport orga_petitions\n\n\n@pytest.fixture\n"
        "def orga_plugins():\n    return [orga_petitions]\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "tests"),
            f"--orga-db={orga_backend}",
            "--rootdir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        # the checkout under test before any installed copy of orga
        env={**_env(), "PYTHONPATH": f"{tmp_path}{os.pathsep}{DOC.parents[1]}"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}


def test_module_without_erase_hook_is_refused(tmp_path):
    extract(tmp_path)
    init = tmp_path / "orga_petitions" / "__init__.py"
    text = init.read_text()
    init.write_text(text[: text.index("@hookimpl\nasync def person_erase")])
    sys.path.insert(0, str(tmp_path))
    try:
        for name in [m for m in sys.modules if m.startswith("orga_petitions")]:
            del sys.modules[name]
        module = importlib.import_module("orga_petitions")
        from core.modules import ModuleError, load_modules
        from core.settings import load_settings

        settings = load_settings(environ={}, var_dir=str(tmp_path), secret_key="k" * 40)
        with pytest.raises(ModuleError, match="lacks person_erase"):
            load_modules(settings, extra=[module])
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("orga_petitions")]:
            del sys.modules[name]


def test_deprecated_hook_warns_its_implementers():
    class Spec:
        @deprecated_hookspec("use register_routes instead; removed in 2.0")
        def register_views(self):
            """An old hook."""

    class OldModule:
        @hookimpl
        def register_views(self):
            return []

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(Spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm.register(OldModule())
    assert any(
        isinstance(w.message, OrgaDeprecationWarning) and "register_routes" in str(w.message)
        for w in caught
    )
