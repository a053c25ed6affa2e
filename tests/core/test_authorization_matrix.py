"""Authorization matrix: role x endpoint x (own, child, sibling, parent unit).

Outside the caller's subtree every endpoint answers 404 (no existence leak); inside it, a
missing permission is 403 and a held one succeeds. The expected permission of each role comes
from the registered ``Permission.default_roles``. Modules extend ``ENDPOINTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.auth.roles import BUILTIN_ROLES


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {org} is replaced by the target unit id
    permission: str | None  # None: visible to any role on the unit
    body: Any = None


ENDPOINTS = [
    Endpoint("GET", "/api/orgs/{org}", None),
    Endpoint("PATCH", "/api/orgs/{org}", "orgs.manage", {"name": "Renamed"}),
    Endpoint("GET", "/api/orgs/{org}/modules", None),
    Endpoint("PUT", "/api/orgs/{org}/modules/calling", "modules.manage", {"enabled": True}),
    Endpoint("GET", "/api/orgs/{org}/members", "members.manage"),
    Endpoint("GET", "/api/orgs/{org}/audit", "audit.view"),
    Endpoint("GET", "/api/orgs/{org}/people/", "people.view"),
    Endpoint("POST", "/api/orgs/{org}/people/", "people.edit", {"last_name": "Neu"}),
    Endpoint("GET", "/api/orgs/{org}/people/custom-fields", "people.view"),
    Endpoint("GET", "/api/orgs/{org}/calling/assignments", "calling.call"),
    Endpoint(
        "POST",
        "/api/orgs/{org}/calling/assignments",
        "calling.manage",
        {"title": "Call", "target": {"filters": [{"type": "has_phone"}]}},
    ),
    Endpoint("GET", "/api/orgs/{org}/calling/followups", "calling.manage"),
    Endpoint("GET", "/api/orgs/{org}/events/", "events.view"),
    Endpoint(
        "POST",
        "/api/orgs/{org}/events/",
        "events.manage",
        {
            "title": "Infostand",
            "type": "info_stand",
            "start_at": "2030-05-01T10:00:00+02:00",
            "end_at": "2030-05-01T12:00:00+02:00",
        },
    ),
    Endpoint("GET", "/api/orgs/{org}/mailings/", "mailings.edit"),
    Endpoint("GET", "/api/orgs/{org}/linksaktiv/editions", "linksaktiv.view"),
]
RELATIONS = ("own", "child", "sibling", "parent")


@pytest.fixture
async def tree(client, factory):
    root = await factory.org("Bund", kind="federal")
    state = await factory.org("Land A", kind="state", parent=root["id"])
    child = await factory.org("KV A1", parent=state["id"])
    sibling = await factory.org("Land B", kind="state", parent=root["id"])
    await factory.enable(root["id"], "calling", "events", "mailings", "linksaktiv")
    return {
        "own": state["id"],
        "child": child["id"],
        "sibling": sibling["id"],
        "parent": root["id"],
    }


def expected_status(role_permissions: frozenset[str], endpoint: Endpoint, relation: str) -> str:
    if relation in ("sibling", "parent"):
        return "404"
    if endpoint.permission is None or endpoint.permission in role_permissions:
        return "2xx"
    return "403"


def classify(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


@pytest.mark.parametrize("role", sorted(BUILTIN_ROLES))
async def test_matrix(role, app, client, factory, tree):
    user = await factory.user(role, tree["own"])
    permissions = app.state.orga.roles.get(role, frozenset())
    mismatches = []
    for endpoint in ENDPOINTS:
        for relation in RELATIONS:
            path = endpoint.path.format(org=tree[relation])
            response = await client.request(
                endpoint.method, path, json=endpoint.body, headers=user.headers
            )
            want = expected_status(permissions, endpoint, relation)
            got = classify(response.status_code)
            if got != want:
                mismatches.append(
                    (endpoint.method, endpoint.path, relation, want, got, response.text[:200])
                )
            if got in ("403", "404"):
                assert response.headers["content-type"].startswith("application/problem+json")
    assert mismatches == []


async def test_every_org_endpoint_needs_authentication(client, tree):
    for endpoint in ENDPOINTS:
        path = endpoint.path.format(org=tree["own"])
        response = await client.request(endpoint.method, path, json=endpoint.body)
        assert response.status_code == 401, (endpoint, response.text)


async def test_object_of_another_unit_is_404_even_with_permission(client, factory, tree):
    admin_b = await factory.user("admin", tree["sibling"])
    admin_a = await factory.user("admin", tree["own"])
    created = await client.post(
        f"/api/orgs/{tree['sibling']}/calling/assignments",
        json={"title": "B only", "target": {"filters": [{"type": "has_phone"}]}},
        headers=admin_b.headers,
    )
    assert created.status_code == 201
    assignment_id = created.json()["id"]
    # admin of A asks for B's assignment through A's unit and through B's unit
    for org in (tree["own"], tree["sibling"]):
        response = await client.get(
            f"/api/orgs/{org}/calling/assignments/{assignment_id}", headers=admin_a.headers
        )
        assert response.status_code == 404


@pytest.mark.parametrize("orga_overrides", [{"roles": {"organizer": {"add": ["members.manage"]}}}])
async def test_nobody_grants_a_role_above_their_own(app, client, factory, tree):
    # A deployment lets organizers manage members ([orga.roles.organizer] in orga.toml);
    # they still cannot create admins.
    organizer = await factory.user("organizer", tree["own"])
    newcomer = await factory.user(None, None)
    for role, want in (("admin", 403), ("organizer", 202), ("caller", 202)):
        response = await client.post(
            f"/api/orgs/{tree['own']}/members",
            json={"email": newcomer.email, "role": role},
            headers=organizer.headers,
        )
        assert response.status_code == want, (role, response.text)
    listed = await client.get(f"/api/orgs/{tree['own']}/members", headers=organizer.headers)
    assert sorted(m["role"] for m in listed.json()["items"] if m["user_id"] == newcomer.id) == [
        "caller",
        "organizer",
    ]


async def test_authorization_costs_two_queries(app, client, factory, tree, monkeypatch):
    """Token + grants in one query, unit path + module switch in one more; then the handler
    (the caches are off in tests: this is what every request costs without them)."""
    from core.testing import count_queries

    user = await factory.user("organizer", tree["own"])
    with count_queries(monkeypatch) as queries:
        response = await client.get(f"/api/orgs/{tree['own']}/modules", headers=user.headers)
    assert response.status_code == 200
    assert queries.count == 3  # actor, org guard, and the handler's one query
