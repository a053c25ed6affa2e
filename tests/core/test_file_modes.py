"""Files and folders orga writes are 0600/0700 whatever the umask it was started with (issue
#21, item 3): database and WAL, uploads, the mail folder, backups and the generated key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from core import db
from core.app import create_app
from core.backup import backup
from core.jobs.worker import Worker
from core.templating import RenderedMail
from core.testing import OrgaFactory


@pytest.fixture
def permissive_umask():
    """Start as a shell with umask 022 would, and put the test process back afterwards."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def modes(root: Path) -> dict[str, int]:
    """Permission bits of ``root`` and everything under it, by path relative to ``root``."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def assert_private(found: dict[str, int], root: Path) -> None:
    loose = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }
    assert loose == {}


async def test_the_server_writes_private_files(tmp_path, monkeypatch, permissive_umask):
    var = tmp_path / "var"
    for name in [k for k in os.environ if k.startswith("ORGA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ORGA_VAR_DIR", str(var))  # database, key and mail folder inside
    monkeypatch.setenv("ORGA_WORKER", "off")
    monkeypatch.setenv("ORGA_CACHE", "false")
    monkeypatch.chdir(tmp_path)  # no orga.toml
    app = create_app()  # as `orga serve` does: settings from the environment
    settings = app.state.orga.settings
    async with LifespanManager(app):
        await db.migrate()
        factory = OrgaFactory()
        root = await factory.org("Bund", kind="federal")
        admin = await factory.user("admin", root["id"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t.local") as client:
            uploaded = await client.post(
                f"/api/orgs/{root['id']}/people/imports/",
                headers=admin.headers,
                files={"file": ("x.csv", b"Nachname\nMeier\n", "text/csv")},
            )
        assert uploaded.status_code == 201, uploaded.text
        await app.state.orga.mailer.enqueue(
            to_email="a@example.org",
            rendered=RenderedMail(subject="Hallo", text="Hallo\n", html=None),
        )
        await Worker(app.state.orga.job_handlers()).drain()
        backup(settings, var / "backup.sqlite3")
        found = modes(var)
    expected = {"orga.sqlite3", "orga.sqlite3-wal", "secret_key", "imports", "mail/new"}
    assert expected <= set(found)
    assert [name for name in found if name.startswith("imports/")]  # the upload
    assert [name for name in found if name.startswith("mail/new/")]  # the mail
    assert "backup.sqlite3" in found
    assert_private(found, var)


def test_the_command_writes_private_files(tmp_path, permissive_umask):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    env.update(ORGA_VAR_DIR=str(var), ORGA_ENV="development")
    for command in (["migrate"], ["backup", str(tmp_path / "var" / "orga.backup")]):
        done = subprocess.run(
            [sys.executable, "-m", "core", *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            umask=0o022,
        )
        assert done.returncode == 0, done.stderr
    found = modes(var)
    assert {"orga.sqlite3", "secret_key", "orga.backup"} <= set(found)
    assert_private(found, var)
