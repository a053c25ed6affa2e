"""A client generated from the OpenAPI document works: openapi-python-client builds it without
a single warning, and it logs in, creates and lists people, creates an assignment and hands
out calls with ``next`` against the real app (through httpx's ASGI transport).

Runs on both databases: generating takes a few seconds, and the drive checks that what each
database hands back (datetimes, stored segments) parses into the generated models.
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from core.testing import TEST_PASSWORD

PACKAGE = "orga_generated_client"


def _run_generator(spec: Path, target: Path) -> subprocess.CompletedProcess[str]:
    config = spec.parent / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: only the warnings matter here
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(target / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
async def generated(client, tmp_path: Path) -> AsyncIterator[ModuleType]:
    """The package generated from the app's document, imported from ``tmp_path``."""
    spec = tmp_path / "openapi.json"
    spec.write_bytes((await client.get("/schema/openapi.json")).content)
    result = await asyncio.to_thread(_run_generator, spec, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(package: ModuleType, tag: str, operation: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation}")


def _models(package: ModuleType) -> Any:
    return importlib.import_module(f"{package.__name__}.models")


async def test_a_generated_client_logs_in_and_hands_out_calls(app, generated, factory):
    org = await factory.org("Bund", kind="federal")
    await factory.enable(org["id"], "calling")
    admin = await factory.user("admin", org["id"], email="orga@example.org")
    models = _models(generated)
    transport = httpx.ASGITransport(app=app)
    base = "http://testserver.local"

    anonymous = generated.Client(base_url=base, httpx_args={"transport": transport})
    login = await _api(generated, "auth", "auth_login").asyncio(
        client=anonymous, body=models.LoginIn(email="orga@example.org", password=TEST_PASSWORD)
    )
    assert isinstance(login, models.LoginOut), login
    assert login.user.id == admin.id
    api = generated.AuthenticatedClient(
        base_url=base, token=login.token, httpx_args={"transport": transport}
    )

    create_person = _api(generated, "people", "people_create_person")
    for index in range(2):
        person = await create_person.asyncio(
            org["id"],
            client=api,
            body=models.PersonIn(
                first_name=f"Rosa{index}",
                last_name="Luxemburg",
                phones=[f"+4930123456{index:02d}"],
                home_org_id=org["id"],
            ),
        )
        assert isinstance(person, models.PersonDetail), person
    people = await _api(generated, "people", "people_list_people").asyncio(org["id"], client=api)
    assert isinstance(people, models.PersonOutPage), people
    assert sorted(p.first_name for p in people.items) == ["Rosa0", "Rosa1"]

    segment = models.Segment(filters=[models.OrgFilter(org_id=org["id"], type_="org")])
    assignment = await _api(generated, "calling", "calling_create_assignment").asyncio(
        org["id"],
        client=api,
        body=models.AssignmentIn(
            title="Anrufe", target=segment, start_at=datetime.now(UTC) - timedelta(hours=1)
        ),
    )
    assert isinstance(assignment, models.AssignmentOut), assignment
    assert assignment.target.filters[0].org_id == org["id"]
    added = await _api(generated, "calling", "calling_add_caller").asyncio(
        org["id"], assignment.id, client=api, body=models.CallerIn(user_id=admin.id)
    )
    assert added.user_id == admin.id  # the new roster entry

    # ``next`` without a body, then "save and next": report the call and get the next one
    next_call = _api(generated, "calling", "calling_next")
    response = await next_call.asyncio_detailed(org["id"], assignment.id, client=api)
    handed_out = []
    while response.status_code == 200 and len(handed_out) < 5:
        assert isinstance(response.parsed, models.CallOut), response.content
        handed_out.append(response.parsed.person.first_name)
        reached = models.CallReport(outcome=models.CallReportOutcome.REACHED)
        previous = models.PreviousCall(call_id=response.parsed.call_id, report=reached)
        response = await next_call.asyncio_detailed(
            org["id"], assignment.id, client=api, body=models.NextIn(previous=previous)
        )
    assert response.status_code == 204, response.content
    assert sorted(handed_out) == ["Rosa0", "Rosa1"]

    problem = await next_call.asyncio(org["id"], 999_999, client=api)
    assert isinstance(problem, models.ProblemBody) and problem.status == 404
