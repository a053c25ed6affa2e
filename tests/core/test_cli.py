"""The ``orga`` command, run as a real subprocess against a fresh database."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import db
from core.demo import IMPORTED
from core.runtime import build_runtime
from core.settings import load_settings

ORGA = [sys.executable, "-m", "core"]


@pytest.fixture
def cli_env(orga_empty_database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    env.update(
        ORGA_DATABASE_URL=orga_empty_database_url,
        ORGA_VAR_DIR=str(tmp_path / "var"),
        ORGA_ENV="development",
    )
    return env


def orga(env, *args, stdin="", modules=None):
    env = dict(env)
    if modules is not None:
        env["ORGA_MODULES"] = modules
    return subprocess.run(
        [*ORGA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def fetch_rows(url: str, var_dir: str, postgres_sql: str, sqlite_sql: str | None = None):
    """The rows of one query on the CLI's database (``sqlite_sql`` where SQLite differs)."""
    runtime = build_runtime(
        load_settings(environ={}, database_url=url, var_dir=var_dir, modules=())
    )

    async def work():
        await db.open_engine(runtime.engine, pool_size=1)
        try:
            return await db.fetch(postgres_sql if db.is_postgres() else sqlite_sql or postgres_sql)
        finally:
            await db.close_engine(runtime.engine)

    return asyncio.run(work())


def table_names(url: str, var_dir: str) -> set[str]:
    rows = fetch_rows(
        url,
        var_dir,
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
        "SELECT name FROM sqlite_master WHERE type = 'table'",
    )
    return {r["name"] for r in rows}


def test_orga_modules_calling_loads_only_core_and_calling(cli_env, tmp_path):
    result = orga(cli_env, "migrate", modules="calling")
    assert result.returncode == 0, result.stderr
    tables = table_names(cli_env["ORGA_DATABASE_URL"], str(tmp_path / "var"))
    assert {"org_unit", "person", "calling_assignment"} <= tables
    assert not {"events_event", "mailings_mailing", "linksaktiv_edition"} & tables
    help_text = orga(cli_env, "--help", modules="calling").stdout
    commands = {
        line.split()[0] for line in help_text.split("Commands:")[1].splitlines() if line.strip()
    }
    assert "calling" in commands
    assert not {"events", "mailings", "linksaktiv"} & commands
    listing = orga(cli_env, "modules", "list", modules="calling").stdout
    assert "calling      on" in listing
    assert "events       off" in listing


def test_demo_is_idempotent_and_prints_password_once(cli_env):
    assert orga(cli_env, "migrate").returncode == 0
    first = orga(cli_env, "demo", "--people", "40")
    assert first.returncode == 0, first.stderr
    assert "log in as admin@demo.orga.invalid with password:" in first.stdout
    second = orga(cli_env, "demo")
    assert second.returncode == 0
    assert "already present" in second.stdout
    assert "password" not in second.stdout


def test_demo_shows_every_module_in_use(cli_env, tmp_path):
    """Issue #22: the demo's people have their numbers flagged (the call queue is not empty),
    and every module has what a visitor needs to see it work."""
    assert orga(cli_env, "migrate").returncode == 0
    result = orga(cli_env, "demo", "--people", "80")
    assert result.returncode == 0, result.stderr
    url, var = cli_env["ORGA_DATABASE_URL"], str(tmp_path / "var")

    def one(sql: str, sqlite_sql: str | None = None):
        return fetch_rows(url, var, sql, sqlite_sql)[0]["n"]

    assert one("SELECT COUNT(*) AS n FROM person") == 80 + IMPORTED  # made, and imported
    assert (
        one(
            "SELECT COUNT(*) AS n FROM person p WHERE p.has_phone <> EXISTS (SELECT 1 FROM "
            "person_phone ph WHERE ph.person_id = p.id AND ph.valid) OR p.has_email <> "
            "(p.email IS NOT NULL)"
        )
        == 0
    )
    assert one("SELECT COUNT(*) AS n FROM person WHERE has_phone") >= 60
    logins = dict(re.findall(r"log in as (\S+) with password: (\S+)", result.stdout))
    callers = [email for email in logins if email.startswith("anrufer")]
    assert len(callers) == 3 and "admin@demo.orga.invalid" in logins
    assert all(password_matches(cli_env, tmp_path, email, logins[email]) for email in callers)
    queue = (
        "SELECT COUNT(*) AS n FROM calling_target t JOIN calling_assignment a ON "
        "a.id = t.assignment_id JOIN person p ON p.id = t.person_id WHERE t.state = 'open' "
        "AND p.has_phone AND a.start_at <= NOW AND a.end_at > NOW "
        "AND CAST(a.survey AS TEXT) <> '[]' "
        "AND EXISTS (SELECT 1 FROM calling_caller c WHERE c.assignment_id = a.id)"
    )
    upcoming = (
        "SELECT COUNT(*) AS n FROM events_event e WHERE e.state = 'published' AND "
        "e.visibility = 'public' AND e.start_at > NOW AND EXISTS (SELECT 1 "
        "FROM events_participation pa WHERE pa.event_id = e.id)"
    )
    sqlite_now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"  # as Piccolo stores timestamps there
    for sql, least in ((queue, 1), (upcoming, 3)):
        counted = one(sql.replace("NOW", "now()"), sql.replace("NOW", sqlite_now))
        assert counted >= least, sql
    assert one("SELECT COUNT(*) AS n FROM mailings_mailing WHERE state = 'draft'") >= 1
    assert one("SELECT COUNT(*) AS n FROM linksaktiv_topic") >= 1
    assert one("SELECT COUNT(*) AS n FROM linksaktiv_call") >= 1
    deliveries = fetch_rows(url, var, "SELECT DISTINCT delivery AS n FROM linksaktiv_order")
    assert {row["n"] for row in deliveries} == {"pickup", "shipping"}
    assert one("SELECT COUNT(*) AS n FROM linksaktiv_referral WHERE status = 'new'") >= 1


def test_init_creates_root_and_admin_once(cli_env):
    assert orga(cli_env, "migrate").returncode == 0
    password = "a long enough passphrase 4 orga\n"
    args = ("init", "--org-name", "Die Partei", "--admin-email", "Chef@Example.org")
    first = orga(cli_env, *args, stdin=password)
    assert first.returncode == 0, first.stderr
    again = orga(cli_env, *args, stdin=password)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    user = orga(
        cli_env,
        "user",
        "create",
        "caller@example.org",
        "--org",
        "1",
        "--role",
        "caller",
        stdin=password,
    )
    assert user.returncode == 0, user.stderr
    twice = orga(
        cli_env,
        "user",
        "create",
        "caller@example.org",
        "--org",
        "1",
        "--role",
        "caller",
        stdin=password,
    )
    assert twice.returncode != 0 and "already exists" in twice.stderr
    weak = orga(
        cli_env,
        "user",
        "create",
        "weak@example.org",
        "--org",
        "1",
        "--role",
        "caller",
        stdin="password1234\n",
    )
    assert weak.returncode != 0 and "password" in weak.stderr
    reset = orga(
        cli_env, "user", "set-password", "caller@example.org", stdin="another long passphrase 77\n"
    )
    assert reset.returncode == 0, reset.stderr
    missing = orga(
        cli_env, "user", "set-password", "ghost@example.org", stdin="another long passphrase 77\n"
    )
    assert missing.returncode != 0 and "no user" in missing.stderr


def test_wrong_setting_stops_with_one_clear_message(cli_env):
    env = dict(cli_env, ORGA_WORKER="sometimes")
    result = orga(env, "migrate")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("orga: ORGA_WORKER:")
    assert "Traceback" not in result.stderr
    env = dict(cli_env, ORGA_DATABASE_URL="mysql://nope")
    result = orga(env, "modules", "list")
    assert result.returncode == 2
    assert "ORGA_DATABASE_URL" in result.stderr


def test_secret_key_is_generated_once_in_development(cli_env, tmp_path):
    assert orga(cli_env, "modules", "list").returncode == 0
    key_file = Path(cli_env["ORGA_VAR_DIR"]) / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 32
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert orga(cli_env, "modules", "list").returncode == 0
    assert key_file.read_text() == first
    production = dict(cli_env, ORGA_ENV="production", ORGA_VAR_DIR=str(tmp_path / "other"))
    result = orga(production, "modules", "list")
    assert result.returncode == 2 and "ORGA_SECRET_KEY" in result.stderr


def test_serve_answers_http_and_trusts_the_local_proxy(cli_env, tmp_path):
    """``orga serve`` answers, names no server software, and takes the client address from
    ``X-Forwarded-For`` when the proxy is local (login throttling counts that address)."""
    import hashlib
    import time
    import urllib.error
    import urllib.request

    from core._pgserver import free_port

    assert orga(cli_env, "migrate").returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [*ORGA, "serve", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as response:
                    body = response.read()
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "orga serve did not answer"
                time.sleep(0.2)
        assert b'"status":"ok"' in body and response.headers["server"] is None
        login = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/auth/login",
            data=b'{"email": "nobody@example.org", "password": "wrong password 123"}',
            headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.7"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(login)
        assert refused.value.code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    keys = {
        r["key"]
        for r in fetch_rows(
            cli_env["ORGA_DATABASE_URL"], str(tmp_path / "var"), "SELECT key FROM login_attempt"
        )
    }
    assert hashlib.sha256(b"address:203.0.113.7").hexdigest() in keys
    assert hashlib.sha256(b"address:127.0.0.1").hexdigest() not in keys


def test_people_import_and_purge(cli_env, tmp_path):
    assert orga(cli_env, "migrate").returncode == 0
    assert (
        orga(
            cli_env,
            "init",
            "--org-name",
            "Bund",
            "--admin-email",
            "a@example.org",
            stdin="a long enough passphrase 4 orga\n",
        ).returncode
        == 0
    )
    source = tmp_path / "leute.csv"
    source.write_text(
        "Vorname;Nachname;E-Mail;Status\nAnna;Alt;anna@example.org;Kontakt\n"
        "Bernd;Bad;kaputt@@x;Kontakt\nCarla;Mitglied;carla@example.org;Mitglied\n",
        encoding="utf-8",
    )
    result = orga(cli_env, "people", "import", str(source), "--org", "1")
    assert result.returncode == 0, result.stderr
    assert "2 created, 0 updated, 0 skipped, 1 rows with errors" in result.stdout
    dry = orga(cli_env, "people", "purge", "--months", "0", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would erase 1 people" in dry.stdout  # the contact without consent, not the member
    real = orga(cli_env, "people", "purge", "--months", "0")
    assert "erased 1 people" in real.stdout
    again = orga(cli_env, "people", "purge", "--months", "0", "--dry-run")
    assert "would erase 0 people" in again.stdout
    jobs = orga(cli_env, "jobs", "purge", "--days", "0")
    assert jobs.returncode == 0 and "deleted 0 finished jobs" in jobs.stdout


def test_people_import_prints_its_progress(cli_env, tmp_path):
    """Issue #22: rows done of the file's rows while the import runs (a line at every tenth
    when the output is no terminal, e.g. a log; a live bar on a terminal)."""
    assert orga(cli_env, "migrate").returncode == 0
    init = orga(
        cli_env,
        "init",
        "--org-name",
        "Bund",
        "--admin-email",
        "a@example.org",
        stdin="a long enough passphrase 4 orga\n",
    )
    assert init.returncode == 0, init.stderr
    source = tmp_path / "leute.csv"
    lines = [f"Person{n};Nachname{n};p{n}@example.org" for n in range(2_500)]
    source.write_text("Vorname;Nachname;E-Mail\n" + "\n".join(lines) + "\n\n")
    result = orga(cli_env, "people", "import", str(source), "--org", "1")
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stdout.splitlines() if line.startswith("importing: ")]
    assert shown == [f"importing: {done} of 2500 rows" for done in (1000, 2000, 2500)]
    assert "2500 created" in result.stdout


def password_matches(env, tmp_path, email: str, password: str) -> bool:
    """Whether the stored hash of ``email``'s user verifies ``password``."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    rows = fetch_rows(
        env["ORGA_DATABASE_URL"],
        str(tmp_path / "var"),
        f"SELECT password_hash FROM orga_user WHERE email = '{email}'",
    )
    try:
        return PasswordHasher().verify(rows[0]["password_hash"], password)
    except VerificationError:
        return False


def test_only_init_reads_orga_admin_password(cli_env, tmp_path):
    """An operator who keeps ORGA_ADMIN_PASSWORD set for ``init`` does not hand the admin's
    password to every user created or reset later: those read stdin only."""
    admin = "the admins own passphrase 91"
    env = dict(cli_env, ORGA_ADMIN_PASSWORD=admin)
    assert orga(env, "migrate").returncode == 0
    init = orga(env, "init", "--org-name", "Bund", "--admin-email", "chef@example.org")
    assert init.returncode == 0, init.stderr
    created = orga(
        env, "user", "create", "neu@example.org", "--org", "1", "--role", "caller",
        stdin="the callers own passphrase 17\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert password_matches(env, tmp_path, "neu@example.org", "the callers own passphrase 17")
    assert not password_matches(env, tmp_path, "neu@example.org", admin)
    nothing = orga(env, "user", "create", "leer@example.org", "--org", "1", "--role", "caller")
    assert nothing.returncode != 0 and "password on stdin is empty" in nothing.stderr
    reset = orga(env, "user", "set-password", "neu@example.org", stdin="another passphrase 55\n")
    assert reset.returncode == 0, reset.stderr
    assert password_matches(env, tmp_path, "neu@example.org", "another passphrase 55")
    unset = orga(env, "user", "set-password", "neu@example.org")
    assert unset.returncode != 0 and "empty" in unset.stderr
    assert password_matches(env, tmp_path, "neu@example.org", "another passphrase 55")


def test_password_on_stdin_is_read_exactly(cli_env, tmp_path):
    """A CRLF line ending is no part of the password; an empty line, white space at either end,
    a control character or a second line stop with a clear message and change nothing."""
    assert orga(cli_env, "migrate").returncode == 0
    init = orga(
        cli_env, "init", "--org-name", "Bund", "--admin-email", "chef@example.org",
        stdin="windows line ending 4 orga\r\n",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert password_matches(cli_env, tmp_path, "chef@example.org", "windows line ending 4 orga")
    refused = {
        "\n": "is empty",
        "": "is empty",
        "trailing space passphrase 4 \n": "starts or ends with a space",
        "  leading space passphrase 4\n": "starts or ends with a space",
        "carriage return passphrase\r\r\n": "control character",
        "first line passphrase 44\nsecond line\n": "more than one line",
    }
    for stdin, message in refused.items():
        result = orga(cli_env, "user", "set-password", "chef@example.org", stdin=stdin)
        assert result.returncode != 0 and message in result.stderr, (stdin, result.stderr)
        assert "Traceback" not in result.stderr
    assert password_matches(cli_env, tmp_path, "chef@example.org", "windows line ending 4 orga")
    plain = orga(cli_env, "user", "set-password", "chef@example.org", stdin="no newline at 4 end")
    assert plain.returncode == 0, plain.stderr
    assert password_matches(cli_env, tmp_path, "chef@example.org", "no newline at 4 end")


def test_a_killed_import_is_marked_failed_at_the_next_start(cli_env, tmp_path):
    assert orga(cli_env, "migrate").returncode == 0
    init = orga(
        cli_env,
        "init",
        "--org-name",
        "Bund",
        "--admin-email",
        "a@example.org",
        stdin="a long enough passphrase 4 orga\n",
    )
    assert init.returncode == 0, init.stderr
    source = tmp_path / "viele.csv"
    lines = [f"Person{n};Nachname{n};p{n}@example.org;030 {1000000 + n}" for n in range(60_000)]
    source.write_text("Vorname;Nachname;E-Mail;Telefon\n" + "\n".join(lines) + "\n")
    url, var = cli_env["ORGA_DATABASE_URL"], cli_env["ORGA_VAR_DIR"]
    status_sql = "SELECT id, status FROM person_import"
    process = subprocess.Popen(
        [*ORGA, "people", "import", str(source), "--org", "1"],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not fetch_rows(url, var, status_sql) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # well inside its transaction
        assert process.poll() is None, "the import ended before it could be killed"
    finally:
        process.kill()
        process.wait()
    [row] = fetch_rows(url, var, status_sql)
    assert row["status"] == "running"
    fetch_rows(  # a minute later: the grace between marking "running" and holding the lock
        url,
        var,
        "UPDATE person_import SET updated_at = updated_at - INTERVAL '2 minutes' RETURNING id",
        "UPDATE person_import SET updated_at = datetime(updated_at, '-2 minutes') RETURNING id",
    )
    listing = orga(cli_env, "people", "imports")
    assert listing.returncode == 0, listing.stderr
    assert (
        f"import {row['id']} was interrupted (its process ended); marked failed" in listing.stdout
    )
    assert (
        "failed" in listing.stdout and "interrupted: the process running it ended" in listing.stdout
    )
    assert fetch_rows(url, var, "SELECT COUNT(*) AS n FROM person") == [{"n": 0}]
    again = orga(cli_env, "people", "imports")
    assert "was interrupted" not in again.stdout and "failed" in again.stdout
