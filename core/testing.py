"""Pytest fixtures for orga and for module authors (loaded through the ``pytest11`` entry point).

Every test gets a fresh database copied from a migrated template (a SQLite file, or a
PostgreSQL ``CREATE DATABASE … TEMPLATE`` on a throw-away server when ``ORGA_TEST_DB=postgres``
or ``--orga-db=postgres``), an app built by ``create_app`` and an HTTP client that goes through
the real ASGI app. Override the ``orga_plugins`` fixture to load extra plugin objects and
``orga_overrides`` to change settings.

Fixtures: ``orga_backend``, ``orga_database_url``, ``orga_empty_database_url``,
``orga_settings``, ``orga_plugins``, ``orga_overrides``, ``app``, ``client``, ``factory``,
``smtp_sink`` (``smtp_sink_ascii`` without SMTPUTF8), ``live_server`` (``orga serve`` in a
child process), ``browser_page`` (headless Chromium through Playwright) and
``screenshot_dir``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from asgi_lifespan import LifespanManager
from litestar import Litestar

from core import db
from core._pgserver import PostgresServer, find_pg_bin, free_port
from core.app import create_app
from core.jobs.worker import Worker
from core.runtime import build_runtime
from core.settings import Settings, load_settings

__all__ = [
    "LiveServer",
    "OrgaFactory",
    "QueryCounter",
    "SmtpSink",
    "TestUser",
    "assert_accessible",
    "client_at",
    "console_log_in",
    "console_menu",
    "count_queries",
    "drain_jobs",
    "eventually",
    "next_page",
    "roles_toml",
    "settings_environ",
]

TEST_PASSWORD = "correct horse battery staple 42"  # noqa: S105 - test fixture password
_counter = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    """Quiet Litestar's 3.0 deprecation notes (orga pins litestar<3) for module authors too."""
    config.addinivalue_line(
        "filterwarnings", "ignore::litestar.exceptions.LitestarDeprecationWarning"
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--orga-db=sqlite|postgres`` (default from ``ORGA_TEST_DB``, else sqlite)."""
    parser.addoption(
        "--orga-db",
        default=os.environ.get("ORGA_TEST_DB", "sqlite"),
        choices=["sqlite", "postgres"],
        help="database backend for orga tests",
    )


def _settings(var_dir: str, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "var_dir": var_dir,
        "database_url": url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "public_url": "http://testserver.local",
        "worker": "off",
        # tests write rows behind the app's back (factories); caches are tested on their own
        "cache": False,
    }
    values.update(overrides)
    return load_settings(environ={}, **values)


def _migrate_template(url: str, var_dir: str) -> None:
    runtime = build_runtime(_settings(var_dir, url))

    async def work() -> None:
        await db.open_engine(runtime.engine, pool_size=2)
        try:
            await db.migrate()
        finally:
            await db.close_engine(runtime.engine)

    asyncio.run(work())


@pytest.fixture(scope="session")
def orga_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``."""
    return request.config.getoption("--orga-db")


@dataclass
class _Template:
    backend: str
    location: str
    server: PostgresServer | None = None


@pytest.fixture(scope="session")
def orga_template(orga_backend: str) -> Iterator[_Template]:
    """A database migrated once per session that each test copies."""
    base = tempfile.mkdtemp(prefix="orga-test-")
    if orga_backend == "sqlite":
        path = os.path.join(base, "template.sqlite3")
        _migrate_template(f"sqlite:///{path}", base)
        yield _Template("sqlite", path)
    else:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            pytest.fail("ORGA_TEST_DB=postgres but no PostgreSQL server binaries were found")
        server = PostgresServer(bin_dir).start()
        asyncio.run(_pg_admin(server.url, "CREATE DATABASE orga_template"))
        _migrate_template(server.url_for("orga_template"), base)
        yield _Template("postgres", "orga_template", server)
        server.stop()
    shutil.rmtree(base, ignore_errors=True)


async def _pg_admin(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def orga_database_url(orga_template: _Template, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database for this test."""
    if orga_template.backend == "sqlite":
        path = tmp_path / "orga.sqlite3"
        shutil.copyfile(orga_template.location, path)
        yield f"sqlite:///{path}"
        return
    server = orga_template.server
    assert server is not None
    name = f"orga_test_{os.getpid()}_{next(_counter)}"
    asyncio.run(_pg_admin(server.url, f"CREATE DATABASE {name} TEMPLATE orga_template"))
    yield server.url_for(name)
    asyncio.run(_pg_admin(server.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def orga_empty_database_url(orga_template: _Template, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, unmigrated database (for migration and CLI tests)."""
    if orga_template.backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server = orga_template.server
    assert server is not None
    name = f"orga_empty_{os.getpid()}_{next(_counter)}"
    asyncio.run(_pg_admin(server.url, f"CREATE DATABASE {name}"))
    yield server.url_for(name)
    asyncio.run(_pg_admin(server.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def orga_plugins() -> list[Any]:
    """Extra plugin objects to load (override in a test module)."""
    return []


@pytest.fixture
def orga_overrides() -> dict[str, Any]:
    """Extra settings (override in a test module), e.g. ``{"modules": ("calling",)}``."""
    return {}


@pytest.fixture
def orga_settings(
    orga_database_url: str, tmp_path: Path, orga_overrides: dict[str, Any]
) -> Settings:
    """Settings for a test deployment in ``tmp_path``."""
    return _settings(str(tmp_path / "var"), orga_database_url, **orga_overrides)


@pytest.fixture
def app(orga_settings: Settings, orga_plugins: list[Any]) -> Litestar:
    """The app, built by ``create_app`` for this test's database."""
    return create_app(orga_settings, plugins=orga_plugins)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client through the ASGI app, in the test's event loop.

    The app's lifespan runs (database pool open), pending migrations are applied (for
    plugins a test registers), and requests go through the real ASGI stack.
    """
    async with LifespanManager(app):
        await db.migrate()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local"
        ) as http:
            yield http


@contextlib.asynccontextmanager
async def client_at(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client like ``client`` whose requests come from the client ``address`` (for
    throttling and rate limits); use it beside ``client``, which runs the app's lifespan."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def eventually(check: Any, seconds: float = 3.0) -> float:
    """Poll the async ``check`` until it returns True; the seconds that took (AssertionError
    after ``seconds``). For changes that reach another process asynchronously."""
    import time

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    raise AssertionError(f"not true within {seconds} s")


async def drain_jobs(app: Litestar) -> int:
    """Run the jobs of ``app`` that are due until none is left (core's and every module's
    handlers, as ``orga worker`` runs them); returns how many ran."""
    return await Worker(app.state.orga.job_handlers()).drain()


class QueryCounter:
    """Counts the statements the app sends to the database (see :func:`count_queries`)."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def count_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[QueryCounter]:
    """Count every statement sent while the block runs: Piccolo's queries and core's raw SQL
    (which skips Piccolo on PostgreSQL)."""
    counter = QueryCounter()
    engine_class = type(db.engine())
    original = engine_class.run_querystring
    original_raw = db._postgres_fetch

    async def counting(self: Any, querystring: Any, in_pool: bool = False) -> Any:
        counter.count += 1
        return await original(self, querystring, in_pool)

    async def counting_raw(engine: Any, sql: str, args: Any) -> Any:
        counter.count += 1
        return await original_raw(engine, sql, args)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    monkeypatch.setattr(db, "_postgres_fetch", counting_raw)
    try:
        yield counter
    finally:
        monkeypatch.setattr(engine_class, "run_querystring", original)
        monkeypatch.setattr(db, "_postgres_fetch", original_raw)


@dataclass
class TestUser:
    """A user made by the factory, with a ready session token."""

    __test__ = False

    id: int
    email: str
    token: str
    token_id: int

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header for this user."""
        return {"Authorization": f"Bearer {self.token}"}


class OrgaFactory:
    """Creates org trees, users with roles, and people directly through core services."""

    _password_hash: str | None = None

    async def org(
        self, name: str | None = None, kind: str = "district", parent: int | None = None
    ) -> dict[str, Any]:
        """An org unit (a root when ``parent`` is ``None``)."""
        from core.orgs.services import create_unit

        return await create_unit(name or f"Unit {next(_counter)}", kind, parent)

    async def user(
        self,
        role: str | None = "admin",
        org: int | None = None,
        email: str | None = None,
        active: bool = True,
    ) -> TestUser:
        """A user holding ``role`` on ``org`` (no role when either is ``None``)."""
        from core.auth.passwords import hash_password
        from core.auth.services import assign_role, issue_token, normalize_email
        from core.auth.tables import User

        if OrgaFactory._password_hash is None:
            OrgaFactory._password_hash = await hash_password(TEST_PASSWORD)
        email = normalize_email(email or f"user{next(_counter)}@example.org")
        rows = await User.insert(
            User(
                email=email,
                display_name=email.split("@")[0],
                password_hash=OrgaFactory._password_hash,
                active=active,
            )
        ).run()
        user_id = rows[0]["id"]
        if role is not None and org is not None:
            await assign_role(user_id, org, role, by=None)
        token = await issue_token(user_id, lifetime=None)
        return TestUser(id=user_id, email=email, token=token.secret, token_id=token.id)

    async def enable(self, org: int, *modules: str) -> None:
        """Switch modules on for a unit."""
        from core.orgs.services import set_module

        for module in modules:
            await set_module(org, module, True)

    async def person(self, org: int, **fields: Any) -> dict[str, Any]:
        """A person with home unit ``org``; ``phones`` (list of E.164) go to person_phone (the
        database keeps ``has_phone``). The name keys are derived as the people service does."""
        from core.people.services import name_keys
        from core.people.tables import Person, PersonPhone

        phones = fields.pop("phones", [])
        values = {"first_name": "Erika", "last_name": "Mustermann", **fields}
        keys = name_keys(values["first_name"], values["last_name"])
        values.setdefault("first_key", keys[0])
        values.setdefault("last_key", keys[1])
        rows = await Person.insert(Person(home_org=org, **values)).run()
        for position, phone in enumerate(phones):
            await PersonPhone.insert(
                PersonPhone(person=rows[0]["id"], e164=phone, position=position)
            ).run()
        person = await Person.select().where(Person.id == rows[0]["id"]).first().run()
        assert person is not None
        return person


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives.

    Recipients whose address starts with ``bounce`` are refused with 550 and ``tempfail``
    with 451, to exercise bounce handling and retries. It offers SMTPUTF8 (RFC 6531), as
    the big providers do, unless made with ``smtputf8=False``.
    """

    def __init__(self, smtputf8: bool = True) -> None:
        from aiosmtpd.controller import Controller

        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.mail_options: list[list[str]] = []
        self.controller = Controller(
            self, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8
        )

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """aiosmtpd hook: refuse the test addresses, accept the rest."""
        if address.startswith("bounce"):
            return "550 5.1.1 no such user"
        if address.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """aiosmtpd hook: keep the message."""
        self.raw.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.mail_options.append(list(envelope.mail_options))
        return "250 Message accepted"

    @property
    def url(self) -> str:
        """``ORGA_SMTP_URL`` of this server."""
        return f"smtp://127.0.0.1:{self.controller.port}?starttls=off"

    @property
    def messages(self) -> list[Any]:
        """The received messages, parsed (see :func:`parse_message`)."""
        return [parse_message(raw) for raw in list(self.raw)]


def parse_message(raw: bytes) -> Any:
    """A received mail parsed with the standard library; headers in UTF-8 (RFC 6532) are read
    as such (the bytes parser would leave them as surrogate escapes)."""
    from email import message_from_bytes, message_from_string
    from email.policy import default

    if raw.isascii():
        return message_from_bytes(raw, policy=default)
    return message_from_string(raw.decode("utf-8"), policy=default)


def _running_sink(smtputf8: bool) -> Iterator[SmtpSink]:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = SmtpSink(smtputf8=smtputf8)
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A loopback SMTP server; point ``ORGA_SMTP_URL`` at ``smtp_sink.url``."""
    yield from _running_sink(smtputf8=True)


@pytest.fixture
def smtp_sink_ascii() -> Iterator[SmtpSink]:
    """A loopback SMTP server that does not offer SMTPUTF8 (an older relay)."""
    yield from _running_sink(smtputf8=False)


def settings_environ(settings: Settings) -> dict[str, str]:
    """``ORGA_*`` variables that make another process load exactly ``settings``."""
    environ: dict[str, str] = {}
    for name, value in msgspec.structs.asdict(settings).items():
        if name == "roles":
            continue  # a table of orga.toml only: see roles_toml
        if name == "module_config":
            for module, values in value.items():
                for key, item in values.items():
                    environ[f"ORGA_{module.upper()}__{key.upper()}"] = str(item)
        elif isinstance(value, (tuple, list)):
            environ[f"ORGA_{name.upper()}"] = ",".join(value)
        elif value is not None:
            environ[f"ORGA_{name.upper()}"] = str(value)
    return environ


def roles_toml(settings: Settings) -> str:
    """The ``[orga.roles.<name>]`` tables of ``settings`` as orga.toml text (JSON strings,
    numbers and arrays are TOML as well)."""
    lines = []
    for role, config in settings.roles.items():
        lines.append(f"[orga.roles.{role}]")
        for key, value in msgspec.structs.asdict(config).items():
            if value is not None and value != ():
                plain = list(value) if isinstance(value, tuple) else value
                lines.append(f"{key} = {json.dumps(plain)}")
    return "\n".join(lines) + "\n"


class LiveServer:
    """``orga serve`` in a child process on a free loopback port (for the browser tests); its
    log goes to ``live-server-<port>.log`` in the var folder."""

    def __init__(self, settings: Settings, worker: str = "inline") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
        environ.update(settings_environ(settings))
        environ.update(ORGA_PUBLIC_URL=self.url, ORGA_WORKER=worker, ORGA_CONFIG="/nonexistent")
        if settings.roles:  # orga.toml is the one place for them
            config = Path(settings.var_dir) / f"live-server-{self.port}.toml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(roles_toml(settings))
            environ["ORGA_CONFIG"] = str(config)
        self.environ = environ
        self.log = Path(settings.var_dir) / f"live-server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until ``/api/health`` answers."""
        import sys
        import time

        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "core", "serve", "--port", str(self.port)],
            env=self.environ,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"orga serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("orga serve did not answer in time")

    def stop(self) -> None:
        """Stop the server process."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
async def live_server(
    client: httpx.AsyncClient, orga_settings: Settings
) -> AsyncIterator[LiveServer]:
    """The test's database served over real HTTP by ``orga serve`` (inline worker on).

    Set ``orga_overrides`` (e.g. ``smtp_url`` of the ``smtp_sink``) before the fixture starts.
    The ``client`` fixture is opened first, so the factory can prepare data.
    """
    server = LiveServer(orga_settings)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def browser_page(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A Playwright page in headless Chromium (Debian's ``/usr/bin/chromium``).

    JavaScript is off: the public pages must work without it.
    """
    from playwright.async_api import async_playwright

    executable = os.environ.get("ORGA_CHROMIUM", "/usr/bin/chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        context = await browser.new_context(java_script_enabled=False, locale="de-DE")
        page = await context.new_page()
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


@pytest.fixture
async def console_page(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A Playwright page in headless Chromium for console pages, German, JavaScript on (the
    console's own small scripts; tests that need it off use ``browser_page``)."""
    from playwright.async_api import async_playwright

    executable = os.environ.get("ORGA_CHROMIUM", "/usr/bin/chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        context = await browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def console_log_in(page: Any, base_url: str, email: str, org_id: int | None = None) -> None:
    """Log ``email`` in through the console's login form in the browser ``page`` (the test
    password) and wait for the start page of unit ``org_id`` (any unit when ``None``)."""
    await page.goto(base_url + "/app/login")
    await page.fill("#f-email", email)
    await page.fill("#f-password", TEST_PASSWORD)
    await page.press("#f-password", "Enter")
    await page.wait_for_url(f"**/app/orgs/{'*' if org_id is None else org_id}")


@contextlib.asynccontextmanager
async def next_page(page: Any) -> AsyncIterator[Any]:
    """Around a click or key press that submits a form or follows a link, wait until the page
    it leads to has loaded; yields Playwright's event (``(await event.value).status``).

    A bare click returns before the server has answered, and ``page.wait_for_url`` returns at
    once when the next page has this page's address (a form that redirects back to its own
    page), so a test that reads the page after either of them may read the old one."""
    async with page.expect_navigation() as navigation:
        yield navigation


async def console_menu(page: Any, label: str) -> None:
    """Follow the console menu's entry ``label`` as a person would at the page's width: the
    row of links on a wide screen, or first opening the folded "Menu" on a phone."""
    narrow = page.locator("nav.menu-narrow")
    if await narrow.is_visible():
        if await narrow.locator("details").get_attribute("open") is None:
            await narrow.locator("summary").click()
        await narrow.get_by_role("link", name=label, exact=True).click()
    else:
        await page.locator("nav.menu-wide").get_by_role("link", name=label, exact=True).click()


async def assert_accessible(page: Any, *, answered_post: bool = False) -> None:
    """axe-core (from axe-playwright-python) finds no WCAG 2.1 A/AA violation on the page,
    and at 320 px wide nothing scrolls sideways (WCAG 1.4.10 reflow).

    axe runs in an isolated copy of the page (a new context that ignores the CSP, which would
    refuse the injected script), so the page under test keeps its CSP. The copy loads the
    page's address again; for a page that answered a form's POST (``answered_post``), which a
    GET cannot reach, it is given the page's own HTML at that address instead.
    """
    from axe_playwright_python.async_playwright import Axe

    html_url = page.url
    html = await page.content() if answered_post else None
    cookies = await page.context.cookies()
    browser = page.context.browser
    context = await browser.new_context(bypass_csp=True, locale="de-DE")
    try:
        await context.add_cookies(cookies)
        copy = await context.new_page()
        if html is not None:
            await copy.route(
                lambda url: url == html_url,
                lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
            )
        for width in (1280, 320):
            await copy.set_viewport_size({"width": width, "height": 900})
            await copy.goto(html_url)
            results = await Axe().run(
                copy, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}
            )
            assert results.violations_count == 0, f"{html_url} at {width}px:\n" + (
                results.generate_report()
            )
            overflow = await copy.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{html_url} scrolls sideways at {width}px by {overflow}px"
    finally:
        await context.close()


@pytest.fixture
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    """Where browser tests save screenshots (``test-artifacts/screenshots``)."""
    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def factory(client: httpx.AsyncClient) -> OrgaFactory:
    """Factories bound to this test's database (the client fixture opened it)."""
    return OrgaFactory()
