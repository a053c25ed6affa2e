"""``make screenshots``: pictures of the console's main pages, desktop and phone.

Builds a fresh SQLite demo database in a temporary folder (``orga migrate`` and ``orga demo``
with its fixed seed), starts ``orga serve`` on a free loopback port, logs in as the demo's
admin in Chromium (Playwright with Debian's ``/usr/bin/chromium``; ``ORGA_CHROMIUM`` names
another) and writes ``docs/screenshots/<page>-<desktop|phone>.png``: viewport-sized shots at
1280 x 800 and 390 x 844. Run it again and the pictures come out the same, apart from what
depends on the clock (times in the audit log, "in 3 days").

Run: ``.venv/bin/python tools/screenshots.py [--out DIR] [--only NAME …]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SIZES: dict[str, tuple[int, int]] = {"desktop": (1280, 800), "phone": (390, 844)}
DEMO_ADMIN = "admin@demo.orga.invalid"
# fixed, so a run does not depend on the machine's settings; not a secret (throw-away data)
SECRET = "screenshots-only-" + "x" * 32


@dataclass(frozen=True)
class Shot:
    """One page to photograph.

    Attributes:
        name: the file name's start (``<name>-desktop.png``).
        path: the page; ``{unit}`` is the unit the login lands on, ``{person}`` and
            ``{import}`` the first person and import listed in it, ``{event_unit}`` and
            ``{event}`` the soonest public event of its subtree.
        logged_in: ``False`` for the login page (shot before logging in).
        click: a button pressed on the page first when it is there; the page it leads to is
            photographed (the call screen's "start calling").
    """

    name: str
    path: str
    logged_in: bool = True
    click: str | None = None


SHOTS: tuple[Shot, ...] = (
    Shot("login", "/app/login", logged_in=False),
    Shot("start", "/app/orgs/{unit}"),
    Shot("people", "/app/orgs/{unit}/people"),
    Shot("person", "/app/orgs/{unit}/people/{person}"),
    Shot("import", "/app/orgs/{unit}/people/imports/{import}"),
    Shot("admin", "/app/orgs/{unit}/admin"),
    Shot("modules", "/app/orgs/{unit}/admin/modules"),
    Shot("audit", "/app/orgs/{unit}/audit"),
    Shot("account", "/app/account"),
    Shot(
        "call",
        "/app/orgs/{unit}/calling/assignments/{assignment}/call",
        click="form[action$='/call/next'] button[type=submit]",
    ),
    Shot("progress", "/app/orgs/{unit}/calling/assignments/{assignment}/progress"),
    Shot("events", "/app/orgs/{unit}/events"),
    Shot("event", "/app/orgs/{event_unit}/events/{event}"),  # at its own unit
    Shot("info-stand", "/app/orgs/{unit}/linksaktiv/stand"),
    Shot("newspapers", "/app/orgs/{unit}/linksaktiv/newspapers/{edition}"),
    Shot("activists", "/app/orgs/{unit}/linksaktiv/activists"),
    Shot("funnel", "/app/orgs/{unit}/linksaktiv/funnel"),
    Shot("referrals", "/app/orgs/{unit}/linksaktiv/referrals"),
    Shot("checkin", "/app/orgs/{event_unit}/events/{event}/checkin"),
    Shot("mailing-compose", "/app/orgs/{unit}/mailings/{mailing}"),
    Shot("mailing-stats", "/app/orgs/{unit}/mailings/{sent_mailing}/stats"),
)

# where to find the ids a path needs: (list page, pattern of the first matching link)
_LOOKUPS = {
    "person": ("/app/orgs/{unit}/people", r"/people/(\d+)$"),
    "import": ("/app/orgs/{unit}/people/imports", r"/people/imports/(\d+)$"),
    "assignment": ("/app/orgs/{unit}/calling/assignments", r"/calling/assignments/(\d+)$"),
    "edition": ("/app/orgs/{unit}/linksaktiv/newspapers", r"/newspapers/(\d+)$"),
    # the soonest public event of the unit's subtree (the demo's running info stand)
    "event": ("/p/events/{unit}?subtree=true", r"/p/events/(?P<event_unit>\d+)/(?P<event>\d+)$"),
    "mailing": ("/app/orgs/{unit}/mailings?state=draft", r"/mailings/(\d+)$"),
    "sent_mailing": ("/app/orgs/{unit}/mailings?state=sent", r"/mailings/(\d+)$"),
}


async def take(
    base_url: str,
    email: str,
    password: str,
    out_dir: Path,
    shots: Sequence[Shot] = SHOTS,
    sizes: dict[str, tuple[int, int]] = SIZES,
) -> list[Path]:
    """Photograph ``shots`` on the server at ``base_url`` as ``email`` in every size of
    ``sizes``; returns the files written to ``out_dir``."""
    from playwright.async_api import async_playwright

    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    written: list[Path] = []
    executable = os.environ.get("ORGA_CHROMIUM", "/usr/bin/chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--lang=de-DE"]
        )
        try:
            for size, (width, height) in sizes.items():
                context = await browser.new_context(
                    locale="de-DE",
                    timezone_id="Europe/Berlin",
                    viewport={"width": width, "height": height},
                    device_scale_factor=1,
                    is_mobile=width < 600,
                    has_touch=width < 600,
                    reduced_motion="reduce",
                )
                page = await context.new_page()
                values: dict[str, str] = {}
                for shot in sorted(shots, key=lambda s: s.logged_in):
                    if shot.logged_in and not values:
                        values = await _log_in(page, base_url, email, password)
                    path = await _resolve(page, base_url, shot.path, values)
                    if path is None:
                        print(f"skipped {shot.name}: nothing to show at {shot.path}")
                        continue
                    response = await page.goto(base_url + path)
                    if response is None or response.status != 200:
                        status = response.status if response else "no answer"
                        raise RuntimeError(f"{shot.name}: {path} answered {status}")
                    if shot.click and await page.locator(shot.click).count():
                        async with page.expect_navigation():
                            await page.click(shot.click)
                    target = out_dir / f"{shot.name}-{size}.png"
                    await page.screenshot(path=str(target), animations="disabled", caret="hide")
                    written.append(target)
                await context.close()
        finally:
            await browser.close()
    for target in written:
        _optimize(target)
    return written


async def _log_in(page: Any, base_url: str, email: str, password: str) -> dict[str, str]:
    """Log in through the form; the unit the console lands on is ``{unit}``."""
    await page.goto(base_url + "/app/login")
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    await page.press("#f-password", "Enter")
    await page.wait_for_url(re.compile(r".*/app/orgs/\d+$"))
    return {"unit": page.url.rstrip("/").rsplit("/", 1)[1]}


async def _resolve(page: Any, base_url: str, path: str, values: dict[str, str]) -> str | None:
    """``path`` with its placeholders filled; ``None`` when a list has nothing to link to."""
    for name, (list_path, pattern) in _LOOKUPS.items():
        if "{" + name + "}" in path and name not in values:
            await page.goto(base_url + list_path.format(**values))
            hrefs = await page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
            found = next((m for h in hrefs if (m := re.search(pattern, h))), None)
            if found is None:
                return None
            values.update(found.groupdict() or {name: found.group(1)})
    return path.format(**values)


def _optimize(target: Path) -> None:
    """Re-save the PNG smaller when Pillow is installed (it is no dependency of orga)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(target) as image:
        image.load()
    image.save(target, optimize=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(var_dir: Path, port: int) -> dict[str, str]:
    """A demo deployment of its own: nothing from the caller's ``ORGA_*`` or ``orga.toml``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORGA_")}
    env.update(
        ORGA_CONFIG=str(var_dir / "none.toml"),
        ORGA_VAR_DIR=str(var_dir),
        ORGA_SECRET_KEY=SECRET,
        ORGA_PUBLIC_URL=f"http://127.0.0.1:{port}",
        ORGA_LOCALE="de",
        ORGA_TIMEZONE="Europe/Berlin",
        ORGA_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def _orga(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "core", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _admin_password(demo_output: str) -> str:
    """The demo admin's password from what ``orga demo`` printed."""
    match = re.search(rf"log in as {re.escape(DEMO_ADMIN)} with password: (\S+)", demo_output)
    if match is None:
        raise RuntimeError("orga demo printed no admin password:\n" + demo_output)
    return match.group(1)


@contextlib.contextmanager
def demo_server(var_dir: Path) -> Iterator[tuple[str, str]]:
    """A fresh demo on SQLite in ``var_dir``, served by ``orga serve``; yields the base URL
    and the demo admin's password, and stops the server afterwards."""
    port = _free_port()
    env = _environment(var_dir, port)
    _orga(env, "migrate")
    password = _admin_password(_orga(env, "demo"))
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "core", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url + "/api/health/live", server)
        yield base_url, password
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"orga serve stopped with exit code {server.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback http
                return
        time.sleep(0.2)
    raise RuntimeError(f"orga serve did not answer at {url} within a minute")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the demo, serve it, photograph the pages; prints the files written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    parser.add_argument("--only", nargs="*", help="page names to shoot (default: all)")
    args = parser.parse_args(argv)
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    with tempfile.TemporaryDirectory(prefix="orga-screenshots-") as tmp:
        with demo_server(Path(tmp)) as (base_url, password):
            written = asyncio.run(take(base_url, DEMO_ADMIN, password, args.out, shots))
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
