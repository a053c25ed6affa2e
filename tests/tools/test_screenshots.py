"""``make screenshots`` (issue #24): the script's core photographs console pages as a user
logs in, at the size asked for; the Makefile target runs the script. The full set (a demo
database, every page, desktop and phone) is left to ``make screenshots`` itself."""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from pathlib import Path

from core.testing import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tools/screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["screenshots"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_make_screenshots_runs_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^screenshots: .*\n\t\$\(PY\) tools/screenshots\.py", makefile, re.M)
    assert {"login", "start", "people", "person", "import", "admin", "audit", "account"} <= {
        shot.name for shot in _script().SHOTS
    }


async def test_take_photographs_pages_before_and_after_logging_in(factory, live_server, tmp_path):
    screenshots = _script()
    unit = await factory.org("KV Leipzig")
    user = await factory.user("organizer", unit["id"])
    person = await factory.person(unit["id"], first_name="Rosa", last_name="Luxemburg")
    shots = [
        screenshots.Shot("login", "/app/login", logged_in=False),
        screenshots.Shot("person", "/app/orgs/{unit}/people/{person}"),
    ]
    written = await screenshots.take(
        live_server.url, user.email, TEST_PASSWORD, tmp_path, shots, {"phone": (390, 844)}
    )
    assert written == [tmp_path / "login-phone.png", tmp_path / "person-phone.png"]
    assert {_png_size(path) for path in written} == {(390, 844)}
    assert person["id"]  # {person} was found as the first person of the list
