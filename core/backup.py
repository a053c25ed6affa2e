"""``orga backup FILE`` and ``orga restore FILE``: a consistent copy of the whole database.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --no-owner`` (the client tools must be
installed; ``ORGA_PG_BIN`` points at their folder if they are not on ``PATH``). SQLite: the
online backup API, safe while the server runs. A restore goes into an empty database; run
``orga migrate`` afterwards when restoring an older backup into a newer orga.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from core.db import postgres_params
from core.settings import Settings

__all__ = ["BackupError", "backup", "restore"]


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


def _tool(name: str) -> str:
    folder = os.environ.get("ORGA_PG_BIN")
    if folder:
        return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    from core._pgserver import find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client or set ORGA_PG_BIN")
    return str(bin_dir / name)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    params = postgres_params(url)
    env = dict(os.environ)
    if params["password"]:
        env["PGPASSWORD"] = params["password"]
    args = ["--host", params["host"], "--port", str(params["port"])]
    if params["user"]:
        args += ["--username", params["user"]]
    return [*args, "--dbname", params["database"]], env


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def backup(settings: Settings, target: Path) -> None:
    """Write a backup of the configured database to ``target``."""
    if settings.is_sqlite:
        source = sqlite3.connect(_sqlite_path(settings))
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        return
    args, env = _pg_args(settings.database_url)
    done = subprocess.run(  # noqa: S603 - fixed tool, arguments from the settings
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(done.stderr.strip())


def restore(settings: Settings, source: Path) -> None:
    """Restore ``source`` into the configured database, which must be empty."""
    if not source.exists():
        raise BackupError(f"{source}: no such file")
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists; restore into a new file")
        path.parent.mkdir(parents=True, exist_ok=True)
        origin = sqlite3.connect(source)
        destination = sqlite3.connect(path)
        try:
            origin.backup(destination)
        finally:
            destination.close()
            origin.close()
        return
    args, env = _pg_args(settings.database_url)
    done = subprocess.run(  # noqa: S603 - fixed tool, arguments from the settings
        [_tool("pg_restore"), "--no-owner", "--exit-on-error", *args, str(source)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(done.stderr.strip())
