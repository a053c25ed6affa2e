"""Postal-code coverage: units own codes and ranges, the most specific unit answers."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import db
from core.orgs.coverage import _ALPHABET, CodeSet, _next, change_coverage
from core.orgs.postcodes import (
    Coverage,
    parse_entries,
    postcodes_of,
    resolve_unit,
    set_postcodes,
)
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


async def put_codes(client, unit, user, *codes):
    return await client.put(
        f"/api/orgs/{unit['id']}/postcodes",
        json={"postal_codes": list(codes)},
        headers=user.headers,
    )


@pytest.fixture
async def covered(client, factory, tree):
    """Sachsen 01000-09999, KV Leipzig 04103-04109 (set by the federal admin), a local group
    below Leipzig, and Leipzig's admin."""
    root, state, leipzig, dresden, admin = tree
    assert (await put_codes(client, state, admin, "01000-09999")).status_code == 200
    assert (await put_codes(client, leipzig, admin, "04103-04109")).status_code == 200
    local = await factory.org("OV Süd", parent=leipzig["id"])
    leipzig_admin = await factory.user("admin", leipzig["id"])
    return root, state, leipzig, dresden, local, admin, leipzig_admin


async def test_a_district_admin_cannot_claim_other_codes_for_a_unit_below(client, covered):
    _root, _state, leipzig, _dresden, local, _admin, leipzig_admin = covered
    everything = await put_codes(client, local, leipzig_admin, "00000-99999")
    assert everything.status_code == 422, everything.text
    assert everything.json()["errors"][0]["field"] == "postal_codes"
    assert "outside the coverage of the unit above" in everything.text
    assert await resolve_unit("10115") is None and await resolve_unit("01067") is not None
    # the district's own codes it may hand down (they move within the district)
    assert (await put_codes(client, local, leipzig_admin, "04103-04105")).status_code == 200
    assert await resolve_unit("04104") == local["id"]
    # taking codes from the state needs the state's (the common ancestor's) admin
    grab = await put_codes(client, leipzig, leipzig_admin, "04103-04199")
    assert grab.status_code == 403, grab.text
    assert grab.json()["type"] == "urn:orga:problem:coverage-move-forbidden"
    # and so does giving codes back to it
    drop = await put_codes(client, leipzig, leipzig_admin, "04103-04108")
    assert drop.status_code == 403
    assert await postcodes_of(leipzig["id"]) == ["04103-04109"]


async def test_units_without_codes_pass_their_parents_coverage_on(client, factory, tree):
    root, state, _leipzig, _dresden, admin = tree
    region = await factory.org("Region", parent=state["id"])
    below = await factory.org("OV", parent=region["id"])
    region_admin = await factory.user("admin", region["id"])
    # nothing above lists codes: the root answers for them, so its admin must agree
    refused = await put_codes(client, below, region_admin, "10115")
    assert refused.status_code == 403
    assert (await put_codes(client, below, admin, "10115")).status_code == 200
    assert await resolve_unit("10115") == below["id"]
    assert root["id"] != below["id"]


async def test_no_unit_covers_what_another_branch_covers(client, covered):
    _root, _state, leipzig, dresden, local, admin, _leipzig_admin = covered
    taken = await put_codes(client, dresden, admin, "01067", "04105")
    assert taken.status_code == 409, taken.text
    assert taken.json()["errors"][0]["field"] == "postal_codes"
    assert "'04105'" in taken.text and "KV Leipzig" in taken.text
    assert (await put_codes(client, dresden, admin, "01067-01099")).status_code == 200
    # shrinking Leipzig below what its local group still covers is refused
    assert (await put_codes(client, local, admin, "04108")).status_code == 200
    shrunk = await put_codes(client, leipzig, admin, "04103-04107")
    assert shrunk.status_code == 422
    assert "OV Süd" in shrunk.text
    # a unit with codes cannot move next to the branch that covers them
    moved = await client.patch(
        f"/api/orgs/{local['id']}", json={"parent_id": dresden["id"]}, headers=admin.headers
    )
    assert moved.status_code == 422, moved.text
    assert moved.json()["errors"][0]["field"] == "parent_id"
    assert (await db.fetch_one("SELECT parent_id FROM org_unit WHERE id = {}", local["id"]))[
        "parent_id"
    ] == leipzig["id"]


async def test_operator_imports_keep_the_rules_all_or_nothing(tree):
    """``orga orgs import-postcodes`` checks the whole file's result, without rule 3."""
    _root, state, leipzig, dresden, _admin = tree
    await change_coverage(
        {state["id"]: [("01000", "09999")], leipzig["id"]: [("04103", "04109")]}, None
    )
    with pytest.raises(Problem) as refused:
        await change_coverage(
            {dresden["id"]: [("01067", "01099")], leipzig["id"]: [("10115", "10115")]}, None
        )
    assert refused.value.status == 422
    assert await postcodes_of(dresden["id"]) == []
    assert await postcodes_of(leipzig["id"]) == ["04103-04109"]


pairs = st.tuples(st.sampled_from("0129AZ"), st.sampled_from("0129AZ")).map("".join)
two_char_sets = st.lists(st.tuples(pairs, pairs).map(sorted).map(tuple), max_size=6)
EVERY_PAIR = [a + b for a in _ALPHABET for b in _ALPHABET]


def _members(ranges) -> set[str]:
    return {c for low, high in ranges for c in EVERY_PAIR if low <= c <= high}


@given(two_char_sets, two_char_sets)
def test_code_set_arithmetic_matches_sets_of_codes(a, b):
    left, right = CodeSet(a), CodeSet(b)
    assert _members(left.ranges()) == _members(a)
    assert _members((left & right).ranges()) == _members(a) & _members(b)
    assert _members((left - right).ranges()) == _members(a) - _members(b)
    assert _members((left | right).ranges()) == _members(a) | _members(b)
    ranges = list(left.ranges())  # disjoint and not even adjacent: one range per run
    assert all(_next(high) < low for (_, high), (low, _) in pairwise(ranges))
