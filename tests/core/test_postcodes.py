"""Postal-code coverage: units own codes and ranges, the most specific unit answers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import db
from core.orgs.postcodes import Coverage, parse_entries, resolve_unit, set_postcodes
from core.problems import Problem
from tests.core.test_cli import cli_env as _cli_env
from tests.core.test_cli import orga
from tests.core.test_imports import run_jobs, upload


@pytest.fixture
async def tree(factory):
    root = await factory.org("Bund", kind="federal")
    state = await factory.org("Sachsen", kind="state", parent=root["id"])
    leipzig = await factory.org("KV Leipzig", parent=state["id"])
    dresden = await factory.org("KV Dresden", parent=state["id"])
    admin = await factory.user("admin", root["id"])
    return root, state, leipzig, dresden, admin


async def test_put_and_resolve_most_specific_unit(client, tree):
    _root, state, leipzig, dresden, admin = tree
    put = await client.put(
        f"/api/orgs/{state['id']}/postcodes",
        json={"postal_codes": ["01000-09999"]},
        headers=admin.headers,
    )
    assert put.status_code == 200, put.text
    await client.put(
        f"/api/orgs/{leipzig['id']}/postcodes",
        json={"postal_codes": ["04109", "04103-04107", " 04109 "]},
        headers=admin.headers,
    )
    got = await client.get(f"/api/orgs/{leipzig['id']}/postcodes", headers=admin.headers)
    assert got.json()["postal_codes"] == ["04103-04107", "04109"]
    assert await resolve_unit("04109") == leipzig["id"]
    assert await resolve_unit("04105") == leipzig["id"]
    assert await resolve_unit("01067") == state["id"]  # Dresden lists nothing: the state
    assert await resolve_unit("10115") is None
    assert await resolve_unit("041") is None  # another length never matches a range
    assert await resolve_unit("04109", within=dresden["path"]) is None
    # replacing the list drops the old codes
    await client.put(
        f"/api/orgs/{leipzig['id']}/postcodes", json={"postal_codes": []}, headers=admin.headers
    )
    assert await resolve_unit("04109") == state["id"]


async def test_bad_code_names_the_field_and_needs_orgs_manage(client, factory, tree):
    _root, state, leipzig, _dresden, admin = tree
    bad = await client.put(
        f"/api/orgs/{leipzig['id']}/postcodes",
        json={"postal_codes": ["04109", "09999-01000"]},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "postal_codes"
    viewer = await factory.user("viewer", state["id"])
    denied = await client.put(
        f"/api/orgs/{leipzig['id']}/postcodes",
        json={"postal_codes": ["04109"]},
        headers=viewer.headers,
    )
    assert denied.status_code == 403
    outsider = await factory.user("admin", (await factory.org("Other", kind="federal"))["id"])
    hidden = await client.get(f"/api/orgs/{leipzig['id']}/postcodes", headers=outsider.headers)
    assert hidden.status_code == 404


async def test_office_is_set_and_cleared(client, tree):
    _root, _state, leipzig, _dresden, admin = tree
    office = {"address": "Braustraße 15, 04107 Leipzig", "opening_hours": "Mo-Fr 10-18"}
    set_ = await client.patch(
        f"/api/orgs/{leipzig['id']}", json={"office": office}, headers=admin.headers
    )
    assert set_.json()["office"] == office
    cleared = await client.patch(
        f"/api/orgs/{leipzig['id']}", json={"office": None}, headers=admin.headers
    )
    assert cleared.json()["office"] is None


async def test_import_puts_new_people_into_the_covering_unit(app, client, tree):
    _root, state, leipzig, _dresden, admin = tree
    await set_postcodes(leipzig["id"], [("04103", "04109")])
    content = b"Vorname;Nachname;PLZ\nAnna;A;04105\nBert;B;01067\n"
    created = await upload(client, state["id"], admin.headers, content)
    url = f"/api/orgs/{state['id']}/people/imports/{created['id']}"
    options = {"mapping": created["suggested_mapping"]}
    confirmed = await client.post(f"{url}/confirm", json=options, headers=admin.headers)
    assert confirmed.status_code == 202
    await run_jobs(app)
    homes = {
        r["first_name"]: r["home_org_id"]
        for r in await db.fetch("SELECT first_name, home_org_id FROM person")
    }
    assert homes == {"Anna": leipzig["id"], "Bert": state["id"]}


async def test_import_ignores_coverage_outside_its_subtree(app, client, tree):
    _root, _state, leipzig, dresden, admin = tree
    await set_postcodes(leipzig["id"], [("04105", "04105")])
    content = b"Vorname;Nachname;PLZ\nAnna;A;04105\n"
    created = await upload(client, dresden["id"], admin.headers, content)
    url = f"/api/orgs/{dresden['id']}/people/imports/{created['id']}"
    options = {"mapping": created["suggested_mapping"]}
    await client.post(f"{url}/confirm", json=options, headers=admin.headers)
    await run_jobs(app)
    row = await db.fetch_one("SELECT home_org_id FROM person")
    assert row["home_org_id"] == dresden["id"]


codes = st.integers(min_value=1000, max_value=99999).map(lambda n: f"{n:05d}")


@given(st.lists(st.tuples(codes, codes), min_size=1, max_size=20), codes)
def test_parse_and_memory_resolution_agree_with_the_ranges(pairs, probe):
    entries = [f"{min(a, b)}-{max(a, b)}" for a, b in pairs]
    ranges = parse_entries(entries)
    coverage = Coverage(ranges=[(low, high, 3, 7) for low, high in ranges])
    inside = any(low <= probe <= high for low, high in ranges)
    assert (coverage.resolve(probe) == 7) is inside


def test_unreadable_entries_raise_a_field_problem():
    for entry in ("abc-", "04", "04109-0411", "x y", "04109-04100"):
        with pytest.raises(Problem):
            parse_entries([entry])


@pytest.fixture
def cli_env(orga_empty_database_url, tmp_path):
    return _cli_env.__wrapped__(orga_empty_database_url, tmp_path)


def test_cli_import_postcodes(cli_env, tmp_path):
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
    source = tmp_path / "plz.csv"
    source.write_text("org_id;postal_code\n1;04109\n1;01000-01999\n", encoding="utf-8")
    result = orga(cli_env, "orgs", "import-postcodes", str(source))
    assert result.returncode == 0, result.stderr
    assert "set 2 postal codes/ranges for 1 units" in result.stdout
    broken = tmp_path / "bad.csv"
    broken.write_text("org_id;postal_code\n1;04109\n1;99-11\n", encoding="utf-8")
    failed = orga(cli_env, "orgs", "import-postcodes", str(broken))
    assert failed.returncode != 0 and "org 1" in failed.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("org_id;postal_code\n99;04109\n", encoding="utf-8")
    assert "no org unit 99" in orga(cli_env, "orgs", "import-postcodes", str(unknown)).stderr


unit_ranges = st.lists(
    st.tuples(st.integers(0, 3), codes, st.integers(0, 300)), min_size=1, max_size=12
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=unit_ranges, probes=st.lists(codes, min_size=1, max_size=10))
async def test_sql_and_memory_resolution_agree(tree, entries, probes):
    root, state, leipzig, dresden, _admin = tree
    units = [root, state, leipzig, dresden]
    per_unit: dict[int, list[tuple[str, str]]] = {u["id"]: [] for u in units}
    for index, low, width in entries:
        high = f"{min(int(low) + width, 99999):05d}"
        per_unit[units[index]["id"]].append((low, high))
    for unit_id, ranges in per_unit.items():
        await set_postcodes(unit_id, sorted(set(ranges)))
    coverage = await Coverage.load(per_unit)
    for probe in probes + [low for _, low, _ in entries]:
        assert await resolve_unit(probe) == coverage.resolve(probe), probe
