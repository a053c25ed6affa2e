"""``orga module new``: the generated package installs, migrates, passes its tests and serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core._pgserver import free_port

ROOT = Path(__file__).resolve().parents[2]


def run(args, env, **kwargs):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def http(method, url, body=None, token=None):
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def test_scaffolded_module_installs_tests_and_serves(
    tmp_path, orga_backend, orga_empty_database_url
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    made = run(
        [
            sys.executable,
            "-m",
            "core",
            "module",
            "new",
            "petitionz",
            "--dir",
            str(tmp_path),
            "--title",
            "Petitionen",
        ],
        env,
    )
    assert made.returncode == 0, made.stderr
    package = tmp_path / "orga-petitionz"
    again = run(
        [sys.executable, "-m", "core", "module", "new", "petitionz", "--dir", str(tmp_path)], env
    )
    assert again.returncode != 0 and "exists already" in again.stderr

    site = tmp_path / "site"
    installed = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(package),
        ],
        env,
    )
    assert installed.returncode == 0, installed.stderr
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])  # this checkout's core

    own_tests = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--orga-db={orga_backend}",
            str(package / "tests"),
            "--rootdir",
            str(package),
        ],
        env,
        cwd=package,
    )
    assert own_tests.returncode == 0, own_tests.stdout[-3000:]
    assert "3 passed" in own_tests.stdout
    orga_tests = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--orga-db={orga_backend}",
            "tests/core/test_health.py",
            "tests/core/test_authorization_matrix.py",
        ],
        env,
        cwd=ROOT,
    )
    assert orga_tests.returncode == 0, orga_tests.stdout[-3000:]

    env.update(
        ORGA_DATABASE_URL=orga_empty_database_url,
        ORGA_VAR_DIR=str(tmp_path / "var"),
        ORGA_WORKER="off",
    )
    assert run([sys.executable, "-m", "core", "migrate"], env).returncode == 0
    listing = run([sys.executable, "-m", "core", "modules", "list"], env).stdout
    assert "petitionz    on   0.1.0" in listing
    assert (
        run(
            [
                sys.executable,
                "-m",
                "core",
                "init",
                "--org-name",
                "Bund",
                "--admin-email",
                "admin@example.org",
            ],
            env,
            input="a long enough passphrase 4 orga\n",
        ).returncode
        == 0
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "core", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, health = http("GET", f"{base}/api/health")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert "petitionz" in {m["name"] for m in health["modules"]}
        _, login = http(
            "POST",
            f"{base}/api/auth/login",
            {"email": "admin@example.org", "password": "a long enough passphrase 4 orga"},
        )
        token = login["token"]
        http("PUT", f"{base}/api/orgs/1/modules/petitionz", {"enabled": True}, token)
        _, person = http("POST", f"{base}/api/orgs/1/people/", {"last_name": "Muster"}, token)
        status, entry = http(
            "POST",
            f"{base}/api/orgs/1/petitionz/",
            {"person_id": person["id"], "title": "Erste"},
            token,
        )
        assert status == 201 and entry["title"] == "Erste"
        status, page = http("GET", f"{base}/api/orgs/1/petitionz/", token=token)
        assert [e["title"] for e in page["items"]] == ["Erste"]
    finally:
        server.terminate()
        server.wait(timeout=15)
