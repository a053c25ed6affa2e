"""Backup and restore: ``orga backup`` dumps, ``orga restore`` fills a fresh database, and the
app starts on it with the same people."""

from __future__ import annotations

import subprocess
import sys

import httpx
import msgspec
from asgi_lifespan import LifespanManager

from core.app import create_app
from core.testing import settings_environ


def _orga(settings, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **settings_environ(settings), "ORGA_CONFIG": "/nonexistent"}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], env=env, capture_output=True, text=True
    )


async def test_backup_restore_and_start(
    client, factory, orga_settings, orga_empty_database_url, tmp_path
):
    org = await factory.org("Kreis")
    admin = await factory.user("admin", org["id"])
    for n in range(3):
        await factory.person(org["id"], first_name=f"Rosa{n}", phones=[f"+4930999000{n}"])
    dump = tmp_path / "orga.backup"
    made = _orga(orga_settings, "backup", str(dump))
    assert made.returncode == 0, made.stderr
    assert dump.stat().st_size > 0

    fresh = msgspec.structs.replace(orga_settings, database_url=orga_empty_database_url)
    restored = _orga(fresh, "restore", str(dump))
    assert restored.returncode == 0, restored.stderr
    again = _orga(fresh, "restore", str(dump))
    assert again.returncode != 0  # never over an existing database

    app = create_app(fresh)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get("/api/health/ready")).status_code == 200
            people = await http.get(f"/api/orgs/{org['id']}/people/", headers=admin.headers)
            assert sorted(p["first_name"] for p in people.json()["items"]) == [
                "Rosa0",
                "Rosa1",
                "Rosa2",
            ]
