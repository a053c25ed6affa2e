"""Segments: the compiled SQL returns exactly what a plain Python reference filter returns."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import db
from core.segments.compiler import count_and_sample, segment_ids_sql
from core.segments.types import segment_type

SEGMENT = segment_type([])
STATUSES = ["member", "former_member", "sympathizer", "contact"]
SOURCES = ["info_stand", "event", "web_form"]
TAGS = ["miete", "pflege", "frieden"]
POSTCODES = ["10115", "10178", "14467", "04109"]
DATES = [datetime(2025, m, 1, tzinfo=UTC) for m in (1, 4, 7, 10)]


@pytest.fixture
async def world(client, factory):
    root = await factory.org("Bund", kind="federal")
    a = await factory.org("A", kind="state", parent=root["id"])
    a1 = await factory.org("A1", parent=a["id"])
    b = await factory.org("B", kind="state", parent=root["id"])
    tag_ids = {}
    for name in TAGS:
        rows = await db.fetch(
            "INSERT INTO tag (org_id, name, created_at, updated_at) "
            "VALUES ({}, {}, {}, {}) RETURNING id",
            root["id"],
            name,
            DATES[0],
            DATES[0],
        )
        tag_ids[name] = rows[0]["id"]
    await db.execute(
        "INSERT INTO custom_field (org_id, key, label, kind, choices, created_at, "
        "updated_at) VALUES ({}, 'shirt', 'Shirt', 'text', NULL, {}, {})",
        root["id"],
        DATES[0],
        DATES[0],
    )
    units = {"root": root, "a": a, "a1": a1, "b": b}
    return {"units": units, "tags": tag_ids}


person_strategy = st.fixed_dictionaries(
    {
        "unit": st.sampled_from(["a", "a1", "b", "root"]),
        "status": st.sampled_from(STATUSES),
        "source": st.sampled_from([*SOURCES, None]),
        "tags": st.sets(st.sampled_from(TAGS)),
        "phone": st.sampled_from(["valid", "invalid", None]),
        "email": st.booleans(),
        "postal_code": st.sampled_from([*POSTCODES, None]),
        "created_at": st.sampled_from(DATES),
        "consent": st.sampled_from([None, "granted", "withdrawn", "granted_then_withdrawn"]),
        "dnc": st.booleans(),
        "shirt": st.sampled_from(["S", "M", None]),
    }
)

ops = st.sampled_from(["add", "sub", "and"])
filter_strategy = st.one_of(
    st.builds(
        lambda op, u: {"type": "org", "op": op, "unit": u},
        ops,
        st.sampled_from(["a", "a1", "b", "root"]),
    ),
    st.builds(
        lambda op, t, m: {"type": "tags", "op": op, "tags": sorted(t), "match": m},
        ops,
        st.sets(st.sampled_from(TAGS), min_size=1),
        st.sampled_from(["any", "all"]),
    ),
    st.builds(
        lambda op, s: {"type": "member_status", "op": op, "statuses": sorted(s)},
        ops,
        st.sets(st.sampled_from(STATUSES), min_size=1),
    ),
    st.builds(
        lambda op, s: {"type": "source", "op": op, "sources": sorted(s)},
        ops,
        st.sets(st.sampled_from(SOURCES), min_size=1),
    ),
    st.builds(lambda op: {"type": "consent", "op": op, "channel": "email"}, ops),
    st.builds(lambda op: {"type": "has_phone", "op": op}, ops),
    st.builds(lambda op: {"type": "has_email", "op": op}, ops),
    st.builds(
        lambda op, p: {"type": "postal_code", "op": op, "prefixes": sorted(p)},
        ops,
        st.sets(st.sampled_from(["1", "10", "101", "14467", "0"]), min_size=1),
    ),
    st.builds(
        lambda op, a, b: {
            "type": "created",
            "op": op,
            **({"after": a.isoformat()} if a else {}),
            **({"before": b.isoformat()} if b else {}),
        },
        ops,
        st.sampled_from([None, *DATES]),
        st.sampled_from([None, *DATES]),
    ),
    st.builds(
        lambda op, v: {"type": "custom_field", "op": op, "key": "shirt", "value": v},
        ops,
        st.sampled_from(["S", "M", "L"]),
    ),
)


def reference(person: dict, f: dict, units: dict) -> bool:
    """Plain Python meaning of each filter."""
    kind = f["type"]
    if kind == "org":
        return units[person["unit"]]["path"].startswith(units[f["unit"]]["path"])
    if kind == "tags":
        wanted = set(f["tags"])
        return wanted <= person["tags"] if f["match"] == "all" else bool(wanted & person["tags"])
    if kind == "member_status":
        return person["status"] in f["statuses"]
    if kind == "source":
        return person["source"] in f["sources"]
    if kind == "consent":
        return person["consent"] == "granted" and not person["dnc"]
    if kind == "has_phone":
        return person["phone"] == "valid"
    if kind == "has_email":
        return person["email"]
    if kind == "postal_code":
        code = person["postal_code"]
        return code is not None and any(code.startswith(p) for p in f["prefixes"])
    if kind == "created":
        after = datetime.fromisoformat(f["after"]) if "after" in f else None
        before = datetime.fromisoformat(f["before"]) if "before" in f else None
        return (after is None or person["created_at"] >= after) and (
            before is None or person["created_at"] < before
        )
    if kind == "custom_field":
        return person["shirt"] == f["value"]
    raise AssertionError(kind)


def expected_ids(people: dict[int, dict], filters: list[dict], units: dict, scope: str) -> set:
    result: set[int] = set()
    for index, f in enumerate(filters):
        matching = {pid for pid, p in people.items() if reference(p, f, units)}
        if index == 0:
            result = matching
        elif f["op"] == "add":
            result |= matching
        elif f["op"] == "sub":
            result -= matching
        else:
            result &= matching
    root_path = units[scope]["path"]
    return {pid for pid in result if units[people[pid]["unit"]]["path"].startswith(root_path)}


async def load_world(people: list[dict], world: dict) -> dict[int, dict]:
    for table in ("consent_event", "person_tag", "person_phone", "person"):
        await db.execute(f"DELETE FROM {table}")
    stored = {}
    units = world["units"]
    for n, p in enumerate(people, start=1):
        custom = msgspec.json.encode({"shirt": p["shirt"]} if p["shirt"] else {}).decode()
        await db.execute(
            "INSERT INTO person (id, first_name, last_name, first_key, last_key, email, "
            "postal_code, member_status, home_org_id, source, do_not_contact, custom_fields, "
            "created_at, updated_at) VALUES ({}, 'F', 'L', 'f l', 'l f', {}, {}, {}, {}, {}, {}, "
            "{}, {}, {})",
            n,
            f"p{n}@example.org" if p["email"] else None,
            p["postal_code"],
            p["status"],
            units[p["unit"]]["id"],
            p["source"],
            p["dnc"],
            custom,
            p["created_at"],
            p["created_at"],
        )
        for tag in p["tags"]:
            await db.execute(
                "INSERT INTO person_tag (person_id, tag_id) VALUES ({}, {})", n, world["tags"][tag]
            )
        if p["phone"]:
            await db.execute(
                "INSERT INTO person_phone (person_id, e164, valid, position) "
                "VALUES ({}, {}, {}, 0)",
                n,
                f"+4930{n:07d}",
                p["phone"] == "valid",
            )
        history = {
            "granted": ["granted"],
            "withdrawn": ["withdrawn"],
            "granted_then_withdrawn": ["granted", "withdrawn"],
        }.get(p["consent"], [])
        for status in history:
            await db.execute(
                "INSERT INTO consent_event (person_id, channel, purpose, status, "
                "source, at) VALUES ({}, 'email', 'general', {}, 'test', {})",
                n,
                status,
                DATES[0],
            )
        stored[n] = p
    return stored


def to_segment(filters: list[dict], units: dict):
    items = []
    for f in filters:
        f = dict(f)
        if f["type"] == "org":
            f["org_id"] = units[f.pop("unit")]["id"]
        items.append(f)
    return msgspec.convert({"filters": items}, SEGMENT)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person_strategy, max_size=20),
    filters=st.lists(filter_strategy, min_size=1, max_size=5),
    scope=st.sampled_from(["root", "a"]),
)
async def test_compiled_segment_matches_python_reference(world, people, filters, scope):
    stored = await load_world(people, world)
    units = world["units"]
    segment = to_segment(filters, units)
    sql, args = await segment_ids_sql(segment.filters, units[scope]["path"])
    got = {row["id"] for row in await db.fetch(sql, *args)}
    assert got == expected_ids(stored, filters, units, scope)
    count, _ = await count_and_sample(segment.filters, units[scope]["path"])
    assert count == len(got)


async def test_random_sample_is_a_reproducible_subset(world):
    people = [
        {
            "unit": "a",
            "status": "member",
            "source": None,
            "tags": set(),
            "phone": None,
            "email": True,
            "postal_code": None,
            "created_at": DATES[0],
            "consent": None,
            "dnc": False,
            "shirt": None,
        }
    ] * 40
    await load_world(people, world)
    units = world["units"]
    base = [{"type": "member_status", "statuses": ["member"]}]
    sample = to_segment([*base, {"type": "random_sample", "size": 7, "seed": 3}], units)
    sql, args = await segment_ids_sql(sample.filters, units["root"]["path"])
    first = {r["id"] for r in await db.fetch(sql, *args)}
    again = {r["id"] for r in await db.fetch(sql, *args)}
    other = to_segment([*base, {"type": "random_sample", "size": 7, "seed": 4}], units)
    sql2, args2 = await segment_ids_sql(other.filters, units["root"]["path"])
    assert len(first) == 7 and first == again
    assert first != {r["id"] for r in await db.fetch(sql2, *args2)}


async def test_preview_endpoint_counts_within_scope_and_rejects_unknown_filters(
    client, factory, world
):
    units = world["units"]
    for unit in ("a", "a1", "b"):
        await factory.person(units[unit]["id"], member_status="member")
    organizer = await factory.user("organizer", units["a"]["id"])
    body = {"filters": [{"type": "member_status", "statuses": ["member"]}]}
    response = await client.post(
        f"/api/orgs/{units['a']['id']}/segments/preview", json=body, headers=organizer.headers
    )
    assert response.status_code == 200
    assert response.json()["count"] == 2
    # an org filter naming another unit cannot widen the scope
    wide = {"filters": [{"type": "org", "org_id": units["b"]["id"]}]}
    response = await client.post(
        f"/api/orgs/{units['a']['id']}/segments/preview", json=wide, headers=organizer.headers
    )
    assert response.json()["count"] == 0
    bad = await client.post(
        f"/api/orgs/{units['a']['id']}/segments/preview",
        json={"filters": [{"type": "astrology"}]},
        headers=organizer.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "filters[0].type"
    saved = await client.post(
        f"/api/orgs/{units['a']['id']}/segments/",
        json={"name": "Mitglieder", "definition": body},
        headers=organizer.headers,
    )
    assert saved.status_code == 201
    listed = await client.get(f"/api/orgs/{units['a']['id']}/segments/", headers=organizer.headers)
    assert [s["name"] for s in listed.json()["items"]] == ["Mitglieder"]
    other = await client.get(
        f"/api/orgs/{units['b']['id']}/segments/{saved.json()['id']}", headers=organizer.headers
    )
    assert other.status_code == 404
