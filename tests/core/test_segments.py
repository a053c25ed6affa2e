"""Segments: the compiled SQL returns exactly what a plain Python model of the same tree (or
list) returns, on random people; saved segments, the list form and the new filters."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core import db
from core.people.services import name_keys
from core.segments import services
from core.segments.compiler import count_and_sample, segment_ids_sql
from core.segments.types import segment_type

SEGMENT = segment_type([])
STATUSES = ["member", "former_member", "sympathizer", "contact"]
SOURCES = ["info_stand", "event", "web_form"]
TAGS = ["miete", "pflege", "frieden"]
POSTCODES = ["10115", "10178", "14467", "04109"]
DATES = [datetime(2025, m, 1, tzinfo=UTC) for m in (1, 4, 7, 10)]
FIRST = ["Anna", "Änne", "Jörg", "Max"]
LAST = ["Müller", "MÜLLER", "Schmidt", "O_Brien"]
# no upper-case non-ASCII letters in cities: PostgreSQL's lower() follows the database's
# LC_CTYPE, and the test server runs with the C locale (see docs/segments.md)
CITIES = ["Berlin", "BERLIN", "Köln", "Mülheim_Ruhr", "50%-Stadt", None]
TERMS = ["an", "ÄN", "müller", "anna  mü", "berlin", "KÖLN", "_", "%", "m_r", "50%", "p1@", "zz"]
CONSENTS = [None, "granted", "withdrawn", "granted_then_withdrawn", "withdrawn_then_granted"]
UNITS = ["a", "a1", "b", "root"]


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
        "unit": st.sampled_from(UNITS),
        "status": st.sampled_from(STATUSES),
        "source": st.sampled_from([*SOURCES, None]),
        "tags": st.sets(st.sampled_from(TAGS)),
        "phone": st.sampled_from(["valid", "invalid", None]),
        "email": st.booleans(),
        "postal_code": st.sampled_from([*POSTCODES, None]),
        "created_at": st.sampled_from(DATES),
        "consent": st.sampled_from(CONSENTS),
        "phone_consent": st.sampled_from(CONSENTS),
        "dnc": st.booleans(),
        "shirt": st.sampled_from(["S", "M", None]),
        "first": st.sampled_from(FIRST),
        "last": st.sampled_from(LAST),
        "city": st.sampled_from(CITIES),
    }
)

leaf_strategy = st.one_of(
    st.builds(lambda u: {"type": "org", "unit": u}, st.sampled_from(UNITS)),
    st.builds(
        lambda t, m: {"type": "tags", "tags": sorted(t), "match": m},
        st.sets(st.sampled_from(TAGS), min_size=1),
        st.sampled_from(["any", "all"]),
    ),
    st.builds(
        lambda s: {"type": "member_status", "statuses": sorted(s)},
        st.sets(st.sampled_from(STATUSES), min_size=1),
    ),
    st.builds(
        lambda s: {"type": "source", "sources": sorted(s)},
        st.sets(st.sampled_from(SOURCES), min_size=1),
    ),
    st.just({"type": "consent", "channel": "email"}),
    st.just({"type": "has_phone"}),
    st.just({"type": "has_email"}),
    st.builds(
        lambda p: {"type": "postal_code", "prefixes": sorted(p)},
        st.sets(st.sampled_from(["1", "10", "101", "14467", "0"]), min_size=1),
    ),
    st.builds(
        lambda a, b: {
            "type": "created",
            **({"after": a.isoformat()} if a else {}),
            **({"before": b.isoformat()} if b else {}),
        },
        st.sampled_from([None, *DATES]),
        st.sampled_from([None, *DATES]),
    ),
    st.builds(
        lambda v: {"type": "custom_field", "key": "shirt", "value": v},
        st.sampled_from(["S", "M", "L"]),
    ),
    st.builds(
        lambda term, fields: {"type": "text", "contains": term, "fields": fields},
        st.sampled_from(TERMS),
        st.lists(st.sampled_from(["name", "email", "city"]), min_size=1, max_size=3),
    ),
    st.builds(
        lambda reasons: {"type": "call_blocked", "reasons": reasons},
        st.lists(
            st.sampled_from(["no_number", "do_not_contact", "phone_withdrawn"]),
            min_size=1,
            max_size=3,
        ),
    ),
)


def _groups(children):
    several = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda of: {"type": "all", "of": of}, several),
        st.builds(lambda of: {"type": "any", "of": of}, several),
        st.builds(lambda of: {"type": "not", "of": of}, children),
        st.builds(
            lambda size, seed, of: {
                "type": "sample",
                "size": size,
                "seed": seed,
                **({"of": of} if of is not None else {}),
            },
            st.integers(1, 8),
            st.integers(0, 5),
            st.none() | children,
        ),
    )


plain_trees = st.recursive(leaf_strategy, _groups, max_leaves=6)
# the tree under test may include the two saved segments (the second may include the first)
trees = st.recursive(
    leaf_strategy | st.builds(lambda i: {"type": "in_segment", "ref": i}, st.sampled_from([0, 1])),
    _groups,
    max_leaves=8,
)
second_saved = st.recursive(
    leaf_strategy | st.just({"type": "in_segment", "ref": 0}), _groups, max_leaves=5
)


def _latest(history: str | None) -> str | None:
    return history.split("_then_")[-1] if history else None


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
        return _latest(person["consent"]) == "granted" and not person["dnc"]
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
    if kind == "text":
        term = " ".join(f["contains"].lower().split())
        first, last = person["first"].lower(), person["last"].lower()
        places = {
            "name": [f"{first} {last}", f"{last} {first}"],
            "email": [person["email_address"].lower()] if person["email"] else [],
            "city": [person["city"].lower()] if person["city"] else [],
        }
        return any(term in text for name in f["fields"] for text in places[name])
    if kind == "call_blocked":
        reasons = {
            "no_number": person["phone"] != "valid",
            "do_not_contact": person["dnc"],
            "phone_withdrawn": _latest(person["phone_consent"]) == "withdrawn",
        }
        return any(reasons[r] for r in f["reasons"])
    raise AssertionError(kind)


def _shuffle(pid: int, seed: int) -> int:
    return ((pid + seed * 7919) * 2654435761) % 4294967296


def _sample(pool: set[int], size: int, seed: int) -> set[int]:
    return set(sorted(pool, key=lambda pid: _shuffle(pid, seed))[:size])


def evaluate(node: dict, people: dict[int, dict], universe: set[int], ctx: dict) -> set[int]:
    """The Python model of a tree: sets of ids within ``universe`` (the people in scope)."""
    kind = node["type"]
    if kind == "all":
        result = set(universe)
        for child in node["of"]:
            result &= evaluate(child, people, universe, ctx)
        return result
    if kind == "any":
        return set().union(*(evaluate(child, people, universe, ctx) for child in node["of"]))
    if kind == "not":
        return universe - evaluate(node["of"], people, universe, ctx)
    if kind == "sample":
        pool = evaluate(node["of"], people, universe, ctx) if "of" in node else universe
        return _sample(pool, node["size"], node["seed"])
    if kind == "in_segment":
        return evaluate(ctx["saved"][node["ref"]], people, universe, ctx)
    return {pid for pid in universe if reference(people[pid], node, ctx["units"])}


def evaluate_list(items: list[dict], people: dict, universe: set[int], ctx: dict) -> set[int]:
    """The Python model of the list form: each filter joins the set so far by its op; a
    first ``sub`` subtracts from everyone in scope."""
    result: set[int] | None = None
    for item in items:
        if item["type"] == "random_sample":
            result = _sample(universe if result is None else result, item["size"], item["seed"])
            continue
        leaf = {k: v for k, v in item.items() if k != "op"}
        matching = evaluate(leaf, people, universe, ctx)
        op = item.get("op", "add")
        if result is None:
            result = universe - matching if op == "sub" else matching
        elif op == "add":
            result |= matching
        elif op == "sub":
            result -= matching
        else:
            result &= matching
    return result or set()


def in_scope(people: dict[int, dict], units: dict, scope: str) -> set[int]:
    root_path = units[scope]["path"]
    return {pid for pid, p in people.items() if units[p["unit"]]["path"].startswith(root_path)}


async def load_world(people: list[dict], world: dict) -> dict[int, dict]:
    for table in ("segment", "consent_event", "person_tag", "person_phone", "person"):
        await db.execute(f"DELETE FROM {table}")
    stored = {}
    units = world["units"]
    for n, p in enumerate(people, start=1):
        p = {**p, "email_address": f"P{n}@Example.org"}
        custom = msgspec.json.encode({"shirt": p["shirt"]} if p["shirt"] else {}).decode()
        first_key, last_key = name_keys(p["first"], p["last"])
        await db.execute(
            "INSERT INTO person (id, first_name, last_name, first_key, last_key, email, city, "
            "postal_code, member_status, home_org_id, source, do_not_contact, custom_fields, "
            "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
            "{}, {}, {})",
            n,
            p["first"],
            p["last"],
            first_key,
            last_key,
            p["email_address"] if p["email"] else None,
            p["city"],
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
        for channel, history in (("email", p["consent"]), ("phone", p["phone_consent"])):
            for status in history.split("_then_") if history else []:
                await db.execute(
                    "INSERT INTO consent_event (person_id, channel, purpose, status, "
                    "source, at) VALUES ({}, {}, 'general', {}, 'test', {})",
                    n,
                    channel,
                    status,
                    DATES[0],
                )
        stored[n] = p
    return stored


def nested_samples(node, saved) -> int:
    """The most samples inside each other on one path of the test's tree, saved ones included."""
    if isinstance(node, list):
        return max((nested_samples(child, saved) for child in node), default=0)
    if not isinstance(node, dict):
        return 0
    if node.get("type") == "in_segment":
        return nested_samples(saved[node["ref"]], saved)
    inner = nested_samples(node["of"], saved) if "of" in node else 0
    return inner + (node.get("type") == "sample")


def to_json(node, units: dict, saved_ids: list[int]):
    """The test's node with real ids: ``unit`` → ``org_id``, ``ref`` → ``segment_id``."""
    if isinstance(node, list):
        return [to_json(n, units, saved_ids) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json(v, units, saved_ids) for k, v in node.items()}
    if "unit" in out:
        out["org_id"] = units[out.pop("unit")]["id"]
    if "ref" in out:
        out["segment_id"] = saved_ids[out.pop("ref")]
    return out


async def ids_of(segment, path: str) -> set[int]:
    sql, args = await segment_ids_sql(segment, path)
    got = {row["id"] for row in await db.fetch(sql, *args)}
    count, _ = await count_and_sample(segment, path)
    assert count == len(got)
    return got


SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    people=st.lists(person_strategy, min_size=3, max_size=16),
    saved=st.tuples(plain_trees, second_saved),
    tree=trees,
    scope=st.sampled_from(["root", "a"]),
)
async def test_compiled_tree_matches_python_model(world, people, saved, tree, scope):
    # the compiler refuses more than three samples inside each other (a sample repeats its
    # inner condition twice), also through saved segments: such trees are errors, not models
    assume(all(nested_samples(node, saved) <= 3 for node in (tree, *saved)))
    stored = await load_world(people, world)
    units = world["units"]
    root = units["root"]
    saved_ids: list[int] = []
    for n, definition in enumerate(saved):
        segment = msgspec.convert({"where": to_json(definition, units, saved_ids)}, SEGMENT)
        saved_ids.append(await services.create_saved(root["id"], root["path"], f"S{n}", segment))
    segment = msgspec.convert({"where": to_json(tree, units, saved_ids)}, SEGMENT)
    ctx = {"units": units, "saved": list(saved)}
    expected = evaluate(tree, stored, in_scope(stored, units, scope), ctx)
    assert await ids_of(segment, units[scope]["path"]) == expected


ops = st.sampled_from(["add", "sub", "and"])
list_items = st.one_of(
    st.builds(lambda leaf, op: {**leaf, "op": op}, leaf_strategy, ops),
    st.builds(lambda leaf: leaf, leaf_strategy),
    st.builds(
        lambda size, seed: {"type": "random_sample", "size": size, "seed": seed},
        st.integers(1, 8),
        st.integers(0, 5),
    ),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person_strategy, min_size=3, max_size=16),
    items=st.lists(list_items, min_size=1, max_size=5).filter(
        lambda items: sum(item.get("type") == "random_sample" for item in items) <= 3
    ),
    scope=st.sampled_from(["root", "a"]),
)
async def test_list_form_reads_as_the_equivalent_tree(world, people, items, scope):
    stored = await load_world(people, world)
    units = world["units"]
    segment = msgspec.convert({"filters": to_json(items, units, [])}, SEGMENT)
    assert msgspec.to_builtins(segment).keys() == {"where"}  # never written back as a list
    ctx = {"units": units, "saved": []}
    expected = evaluate_list(items, stored, in_scope(stored, units, scope), ctx)
    assert await ids_of(segment, units[scope]["path"]) == expected


def _person(**changes) -> dict:
    base = {
        "unit": "a",
        "status": "member",
        "source": None,
        "tags": set(),
        "phone": None,
        "email": True,
        "postal_code": None,
        "created_at": DATES[0],
        "consent": None,
        "phone_consent": None,
        "dnc": False,
        "shirt": None,
        "first": "Anna",
        "last": "Schmidt",
        "city": None,
    }
    return {**base, **changes}


async def test_random_sample_is_a_reproducible_subset(world):
    await load_world([_person()] * 40, world)
    units = world["units"]
    base = [{"type": "member_status", "statuses": ["member"]}]
    sample = msgspec.convert(
        {"filters": [*base, {"type": "random_sample", "size": 7, "seed": 3}]}, SEGMENT
    )
    first = await ids_of(sample, units["root"]["path"])
    again = await ids_of(sample, units["root"]["path"])
    other = msgspec.convert(
        {"where": {"type": "sample", "size": 7, "seed": 4, "of": base[0]}}, SEGMENT
    )
    assert len(first) == 7 and first == again
    assert first != await ids_of(other, units["root"]["path"])


async def test_list_starting_with_sub_means_everyone_else_in_scope(client, factory, world):
    units = world["units"]
    tagged = await factory.person(units["a"]["id"])
    await db.execute(
        "INSERT INTO person_tag (person_id, tag_id) VALUES ({}, {})",
        tagged["id"],
        world["tags"]["miete"],
    )
    others = [await factory.person(units[u]["id"]) for u in ("a", "a1")]
    await factory.person(units["b"]["id"])  # outside the scope of unit a
    organizer = await factory.user("organizer", units["a"]["id"])
    response = await client.post(
        f"/api/orgs/{units['a']['id']}/segments/preview",
        json={"filters": [{"type": "tags", "tags": ["miete"], "op": "sub"}]},
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 2
    assert {r["id"] for r in response.json()["sample"]} == {p["id"] for p in others}


async def test_preview_counts_within_scope_and_names_bad_fields(client, factory, world):
    units = world["units"]
    for unit in ("a", "a1", "b"):
        await factory.person(units[unit]["id"], member_status="member")
    organizer = await factory.user("organizer", units["a"]["id"])
    url = f"/api/orgs/{units['a']['id']}/segments/preview"
    body = {"where": {"type": "member_status", "statuses": ["member"]}}
    response = await client.post(url, json=body, headers=organizer.headers)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    # an org filter naming another unit cannot widen the scope
    wide = {"where": {"type": "org", "org_id": units["b"]["id"]}}
    response = await client.post(url, json=wide, headers=organizer.headers)
    assert response.json()["count"] == 0
    for bad, field in (
        ({"filters": [{"type": "astrology"}]}, "filters[0].type"),
        ({"where": {"type": "all", "of": [{"type": "astrology"}]}}, "where.of[0].type"),
        ({"where": {"type": "any", "of": [{"type": "has_phone", "op": "sub"}]}}, "where.of[0].op"),
        ({"where": {"type": "text", "contains": " "}}, "where"),
    ):
        response = await client.post(url, json=bad, headers=organizer.headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == field, response.text
    deep: dict = {"type": "has_phone"}
    for _ in range(40):
        deep = {"type": "not", "of": deep}
    response = await client.post(url, json={"where": deep}, headers=organizer.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("where.of.of.")
    # deeper than the JSON decoder recurses: a 400, not a server error
    body = '{"where":' + '{"type":"not","of":' * 5000 + '{"type":"has_phone"}' + "}" * 5001
    response = await client.post(
        url, content=body, headers={**organizer.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_saved_segments_include_each_other_within_visibility_and_without_cycles(
    client, factory, world
):
    units = world["units"]
    organizer = await factory.user("organizer", units["root"]["id"])
    await factory.person(units["a"]["id"], member_status="member", email="m@example.org")
    await factory.person(units["a"]["id"], member_status="member")
    await factory.person(units["a1"]["id"], member_status="contact", email="c@example.org")

    def url(unit: str, rest: str = "") -> str:
        return f"/api/orgs/{units[unit]['id']}/segments/{rest}"

    async def save(unit: str, where: dict) -> int:
        response = await client.post(
            url(unit), json={"name": "S", "definition": {"where": where}}, headers=organizer.headers
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def preview(unit: str, where: dict):
        return await client.post(
            url(unit, "preview"), json={"where": where}, headers=organizer.headers
        )

    members = await save("root", {"type": "member_status", "statuses": ["member"]})
    with_email = await save(
        "a",
        {
            "type": "all",
            "of": [{"type": "in_segment", "segment_id": members}, {"type": "has_email"}],
        },
    )
    response = await preview("a", {"type": "in_segment", "segment_id": with_email})
    assert response.json()["count"] == 1
    response = await preview(
        "a", {"type": "not", "of": {"type": "in_segment", "segment_id": members}}
    )
    assert response.json()["count"] == 1
    # a segment of unit a is not visible from its sibling b, nor from the root above it
    for unit in ("b", "root"):
        response = await preview(unit, {"type": "in_segment", "segment_id": with_email})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "where.segment_id"
    # redefining "members" to include itself, directly or through with_email
    for where, field in (
        ({"type": "in_segment", "segment_id": members}, "definition.where.segment_id"),
        (
            {
                "type": "any",
                "of": [{"type": "has_phone"}, {"type": "in_segment", "segment_id": with_email}],
            },
            "definition.where.of[1].segment_id",
        ),
    ):
        response = await client.patch(
            url("root", str(members)),
            json={"definition": {"where": where}},
            headers=organizer.headers,
        )
        # with_email (unit a) is not visible from the root, which is refused first
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    cycle = await save("a", {"type": "in_segment", "segment_id": with_email})
    response = await client.patch(
        url("a", str(with_email)),
        json={"definition": {"where": {"type": "in_segment", "segment_id": cycle}}},
        headers=organizer.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "definition.where.segment_id"
    assert "includes itself" in response.json()["errors"][0]["message"]
    # a segment another one includes cannot be deleted
    response = await client.delete(url("a", str(with_email)), headers=organizer.headers)
    assert response.status_code == 409
    assert (await client.delete(url("a", str(cycle)), headers=organizer.headers)).status_code == 204
    assert (
        await client.delete(url("a", str(with_email)), headers=organizer.headers)
    ).status_code == 204
    stored = await client.get(url("root", str(members)), headers=organizer.headers)
    assert stored.json()["definition"] == {
        "where": {"type": "member_status", "statuses": ["member"]}
    }


async def test_old_saved_definitions_read_as_trees(client, factory, world):
    units = world["units"]
    organizer = await factory.user("organizer", units["a"]["id"])
    await db.execute(
        "INSERT INTO segment (org_id, name, definition, created_at, updated_at) "
        "VALUES ({}, 'old', {}, {}, {})",
        units["a"]["id"],
        '{"filters": [{"type": "has_phone", "op": "sub"}, {"type": "has_email", "op": "and"}]}',
        DATES[0],
        DATES[0],
    )
    listed = await client.get(f"/api/orgs/{units['a']['id']}/segments/", headers=organizer.headers)
    assert listed.json()["items"][0]["definition"] == {
        "where": {
            "type": "all",
            "of": [{"type": "not", "of": {"type": "has_phone"}}, {"type": "has_email"}],
        }
    }


async def test_samples_nest_at_most_three_deep(client, factory, world):
    """Each sample repeats its inner condition twice in SQL: four inside each other would
    be 16 copies (SQLite's parser gives up), so the fourth is a 422 naming it."""
    units = world["units"]
    organizer = await factory.user("organizer", units["a"]["id"])
    url = f"/api/orgs/{units['a']['id']}/segments/preview"
    node: dict = {"type": "member_status", "statuses": ["member"]}
    for _ in range(3):
        node = {"type": "sample", "size": 5, "of": node}
    ok = await client.post(url, json={"where": node}, headers=organizer.headers)
    assert ok.status_code == 200, ok.text
    deeper = {"type": "sample", "size": 5, "of": node}
    refused = await client.post(url, json={"where": deeper}, headers=organizer.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"].startswith("where.of.of.of")


async def test_the_people_list_narrows_to_a_segment(client, factory, world):
    """``GET …/people?segment=<JSON>``: the JSON API's side of the console's segment builder,
    paged, searched and audited as the plain list; a bad segment is a 422 naming it."""
    units = world["units"]
    for name in ("Rosa", "Rolf", "Karl"):
        await factory.person(units["a"]["id"], first_name=name, member_status="member")
    await factory.person(units["a"]["id"], first_name="Romy", member_status="contact")
    await factory.person(units["b"]["id"], first_name="Roberta", member_status="member")
    organizer = await factory.user("organizer", units["a"]["id"])
    url = f"/api/orgs/{units['a']['id']}/people"
    members = msgspec.json.encode(
        {"where": {"type": "member_status", "statuses": ["member"]}}
    ).decode()
    first = await client.get(
        url, params={"segment": members, "q": "ro", "limit": 1}, headers=organizer.headers
    )
    assert first.status_code == 200, first.text
    second = await client.get(
        url,
        params={"segment": members, "q": "ro", "limit": 1, "cursor": first.json()["next_cursor"]},
        headers=organizer.headers,
    )
    names = [p["first_name"] for p in first.json()["items"] + second.json()["items"]]
    assert names == ["Rosa", "Rolf"] and second.json()["next_cursor"] is None
    for bad, field in (("{", "segment"), ('{"where": {"type": "x"}}', "segment.where.type")):
        response = await client.get(url, params={"segment": bad}, headers=organizer.headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
