"""The ``orga`` command: serve, migrate, demo, init, user, modules; modules add their own."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import Any

import click

from core import db
from core.auth.roles import build_roles
from core.modules import ModuleError, load_modules
from core.problems import Problem
from core.runtime import Runtime, build_runtime, run_async
from core.settings import SettingsError, load_settings, private_files

__all__ = ["main"]


def read_password(prompt: str = "Password", *, environ_name: str | None = None) -> str:
    """A password typed twice at a terminal, else the one line on stdin, read exactly.

    Only the line ending (``\\n`` or ``\\r\\n``) is removed; an empty password, more than one
    line, a control character or white space at either end stops with a message instead of
    setting a password other than the one meant. ``environ_name`` names an environment
    variable that is read first (``orga init`` only: ``ORGA_ADMIN_PASSWORD``).
    """
    if environ_name and os.environ.get(environ_name):
        return _exact(os.environ[environ_name], environ_name)
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} (again): ") != first:
            raise click.ClickException("the passwords differ")
        return _exact(first, "the password")
    try:
        text = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException("the password on stdin is not UTF-8") from exc
    ending = "\r\n" if text.endswith("\r\n") else "\n"
    return _exact(text.removesuffix(ending), "the password on stdin")


def _exact(password: str, source: str) -> str:
    """``password`` unchanged, or a clear error when it cannot be what the operator meant."""
    if not password:
        raise click.ClickException(f"{source} is empty; pipe the password and one newline")
    if "\n" in password:
        raise click.ClickException(f"{source} has more than one line")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise click.ClickException(f"{source} holds a control character (tab, carriage return)")
    if password != password.strip():
        raise click.ClickException(
            f"{source} starts or ends with a space; orga does not strip it silently"
        )
    return password


def _fail(exc: Exception) -> click.ClickException:
    if isinstance(exc, Problem):
        fields = ", ".join(f"{e.field}: {e.message}" for e in exc.errors or [])
        return click.ClickException(fields or exc.detail or exc.title)
    return click.ClickException(str(exc))


@click.group()
def cli() -> None:
    """orga: organize people, calls, events and mailings."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="server processes")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API, docs and public pages with uvicorn (see docs/design.md for why)."""
    import uvicorn

    uvicorn.run(
        "core.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="auto",  # uvloop
        http="auto",  # httptools
        access_log=False,  # orga writes its own access line (core.observability)
        server_header=False,
    )


@cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Write a backup of the database to TARGET (pg_dump custom format, or a SQLite copy)."""
    from core.backup import BackupError, backup

    try:
        backup(load_settings(), target)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {target}")


@cli.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def restore_command(source: Path) -> None:
    """Restore SOURCE into the (empty) database of ORGA_DATABASE_URL; then run orga migrate."""
    from core.backup import BackupError, restore

    try:
        restore(load_settings(), source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("restored; run `orga migrate` if this orga is newer than the backup")


@cli.command()
def migrate() -> None:
    """Run the pending migrations of core and every enabled module."""

    async def work(runtime: Runtime) -> list[str]:
        before = await db.pending_migrations()
        await db.migrate()
        return before

    applied = run_async(work)
    click.echo(f"applied {len(applied)} migration(s)" if applied else "database is up to date")


@cli.command()
@click.option("--if-empty", is_flag=True, help="do nothing when the database has any org unit")
@click.option(
    "--people",
    default=300,
    show_default=True,
    help="how many people to generate (the demo's import adds 23 more)",
)
def demo(if_empty: bool, people: int) -> None:
    """Create (once) a demo deployment: units, people, each module's content, and users whose
    passwords are printed (an admin, an organizer, callers)."""
    from core.demo import create_demo

    async def work(runtime: Runtime) -> dict[str, Any] | None:
        return await create_demo(runtime.registry, people=people, if_empty=if_empty)

    result = run_async(work)
    if result is None:
        click.echo("demo data already present; nothing to do")
        return
    click.echo(f"demo created: {result['units']} org units, {result['people']} people")
    for note in result["notes"]:
        click.echo(f"  {note}")
    for login in result["logins"]:
        click.echo(f"log in as {login.email} with password: {login.password}")
        click.echo(f"  ({login.role}: {login.note})")
    click.echo("(the passwords are shown only this once)")


@cli.command()
@click.option("--org-name", required=True, help="name of the root org unit")
@click.option("--org-kind", default="federal", show_default=True)
@click.option("--admin-email", required=True)
@click.option("--admin-name", default="Administrator", show_default=True)
def init(org_name: str, org_kind: str, admin_email: str, admin_name: str) -> None:
    """Create the root unit and the first admin (password from ORGA_ADMIN_PASSWORD, else stdin)."""
    from core.auth.bootstrap import initialize

    password = read_password(environ_name="ORGA_ADMIN_PASSWORD")

    async def work(runtime: Runtime) -> dict[str, Any]:
        return await initialize(org_name, org_kind, admin_email, admin_name, password)

    try:
        result = run_async(work)
    except (Problem, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"created org unit {result['org_id']} and admin user {result['user_id']}")


@cli.command()
@click.option("--concurrency", default=4, show_default=True, help="jobs at a time")
def worker(concurrency: int) -> None:
    """Run jobs (mail, reminders) until stopped with SIGTERM or Ctrl-C; then finish or release."""
    import logging
    import signal

    from core.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def work(runtime: Runtime) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Worker(runtime.job_handlers(), concurrency=concurrency).run(stop)
        finally:
            await runtime.mailer.transport.close()

    run_async(work)


@cli.group()
def jobs() -> None:
    """Inspect and steer the job queue."""


@jobs.command("list")
def jobs_list() -> None:
    """Counts per kind and status, the latest failures and the jobs that keep failing."""
    from core.jobs.services import queue_stats

    async def work(runtime: Runtime) -> dict[str, Any]:
        return await queue_stats()

    stats = run_async(work)
    for row in stats["counts"]:
        click.echo(f"{row['kind']:<30} {row['status']:<10} {row['n']:>8}")
    click.echo(f"oldest due job waits {stats['oldest_due_seconds']:.0f} s")
    for row in stats["failures"]:
        click.echo(f"failed {row['id']:>8} {row['kind']:<24} {row['last_error']}")
    for row in stats["retrying"]:
        tries = f"{row['attempts']}/{row['max_attempts']}"
        click.echo(f"retrying {row['id']:>6} {row['kind']:<24} {tries:>5} {row['last_error']}")


@jobs.command("purge")
@click.option("--days", default=14, show_default=True, help="keep finished jobs this long")
def jobs_purge(days: int) -> None:
    """Delete finished jobs older than DAYS (their payloads may hold personal data)."""
    from datetime import timedelta

    from core.jobs.services import purge_finished
    from core.tables import utcnow

    async def work(runtime: Runtime) -> int:
        return await purge_finished(utcnow() - timedelta(days=days))

    click.echo(f"deleted {run_async(work)} finished jobs")


@jobs.command("retry")
@click.argument("job_id", type=int)
def jobs_retry(job_id: int) -> None:
    """Queue a failed or cancelled job again."""
    from core.jobs.services import retry

    async def work(runtime: Runtime) -> None:
        await retry(job_id)

    try:
        run_async(work)
    except Problem as exc:
        raise _fail(exc) from exc
    click.echo(f"job {job_id} queued again")


@jobs.command("cancel")
@click.argument("job_id", type=int)
def jobs_cancel(job_id: int) -> None:
    """Cancel a queued job."""
    from core.jobs.services import cancel

    async def work(runtime: Runtime) -> None:
        await cancel(job_id)

    try:
        run_async(work)
    except Problem as exc:
        raise _fail(exc) from exc
    click.echo(f"job {job_id} cancelled")


@cli.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("email")
@click.option("--org", "org_id", required=True, type=int, help="org unit id")
@click.option("--role", required=True, help="admin, organizer, caller, viewer or [orga.roles]")
@click.option("--name", "display_name", default="", help="display name")
def user_create(email: str, org_id: int, role: str, display_name: str) -> None:
    """Create a user with a role on a unit (password from stdin, one line)."""
    from core.auth.bootstrap import add_user

    password = read_password()

    async def work(runtime: Runtime) -> dict[str, Any]:
        return await add_user(email, display_name, password, org_id, role)

    try:
        result = run_async(work)
    except (Problem, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"created user {result['id']} ({result['email']}) as {role} on unit {org_id}")


@user.command("set-password")
@click.argument("email")
def user_set_password(email: str) -> None:
    """Set a user's password (from stdin, one line); ends all their sessions."""
    from core.auth.bootstrap import set_password

    password = read_password("New password")

    async def work(runtime: Runtime) -> None:
        await set_password(email, password)

    try:
        run_async(work)
    except (Problem, ValueError) as exc:
        raise _fail(exc) from exc
    click.echo(f"password of {email} changed; their sessions were ended")


@cli.group()
def modules() -> None:
    """Inspect modules."""


@modules.command("list")
def modules_list() -> None:
    """List installed modules and whether ORGA_MODULES loads them."""
    runtime = build_runtime()
    for name in runtime.registry.installed:
        module = runtime.registry.modules.get(name)
        if module is None:
            click.echo(f"{name:<12} off  (excluded by ORGA_MODULES)")
        else:
            click.echo(
                f"{name:<12} on   {module.info.version:<8} {module.package}  {module.info.title}"
            )


@cli.group()
def module() -> None:
    """Write new modules."""


@module.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="where to create the package folder",
)
@click.option("--title", help="human title of the module")
def module_new(name: str, target: Path, title: str | None) -> None:
    """Create an installable module package orga-NAME (table, migration, route, permission,
    segment filter, GDPR hooks, template, tests)."""
    from core.scaffold import write_module_package

    try:
        root = write_module_package(name, target, title)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {root}")
    click.echo(f"next: pip install -e {root} && orga migrate && pytest {root}/tests")


def _load_commands() -> None:
    """Core's and every enabled module's ``register_commands``, once the settings, the modules
    and the roles of ``[orga.roles]`` are found good."""
    try:
        settings = load_settings()
        registry = load_modules(settings)
        build_roles(settings.roles, registry.permissions)  # [orga.roles] stops every command
    except (SettingsError, ModuleError) as exc:
        click.echo(f"orga: {exc}", err=True)
        raise SystemExit(2) from exc
    registry.call_each("register_commands", cli=cli)


def main() -> None:
    """Entry point of the ``orga`` console script."""
    private_files()
    _load_commands()
    cli(prog_name="orga")
