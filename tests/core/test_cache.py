"""The per-process caches of tokens, units and module switches (core/cache.py).

With the caches on, a repeated request skips the token and unit lookups; every change to the
rows behind them, whether through the API or behind the app's back, takes effect at once in
the same process and within moments in the others (PostgreSQL NOTIFY). SQLite has no
cross-process signal, so there the caches stay off.
"""

from __future__ import annotations

import asyncio

import pytest

from core import cache as cache_module
from core import db
from core.cache import MISSING, Caches
from core.testing import count_queries, eventually
from tests.core.console.helpers import console_login, csrf_of


@pytest.fixture
def orga_overrides():
    return {"cache": True}


@pytest.fixture
def postgres_only():
    if not db.is_postgres():
        pytest.skip("the caches need PostgreSQL's NOTIFY; on SQLite they are off (tested below)")


async def test_repeated_request_skips_token_and_unit_lookups(
    client, factory, monkeypatch, postgres_only
):
    org = await factory.org()
    user = await factory.user("organizer", org["id"])
    url = f"/api/orgs/{org['id']}/modules"
    with count_queries(monkeypatch) as first:
        assert (await client.get(url, headers=user.headers)).status_code == 200
    with count_queries(monkeypatch) as again:
        assert (await client.get(url, headers=user.headers)).status_code == 200
    assert first.count == 3  # token, unit, the unit's module switches
    assert again.count == 0  # all three kept


async def test_sqlite_reads_every_time(client, factory, monkeypatch):
    if db.is_postgres():
        pytest.skip("SQLite only")
    org = await factory.org()
    user = await factory.user("organizer", org["id"])
    url = f"/api/orgs/{org['id']}/modules"
    await client.get(url, headers=user.headers)
    with count_queries(monkeypatch) as again:
        assert (await client.get(url, headers=user.headers)).status_code == 200
    assert again.count == 3


async def test_logout_refuses_the_token_at_once(client, factory, postgres_only):
    user = await factory.user("organizer", (await factory.org())["id"])
    assert (await client.get("/api/me", headers=user.headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=user.headers)).status_code == 204
    assert (await client.get("/api/me", headers=user.headers)).status_code == 401


async def test_role_taken_away_through_the_api_applies_at_once(client, factory, postgres_only):
    org = await factory.org()
    admin = await factory.user("admin", org["id"])
    user = await factory.user("organizer", org["id"])
    url = f"/api/orgs/{org['id']}/modules"
    assert (await client.get(url, headers=user.headers)).status_code == 200
    response = await client.delete(
        f"/api/orgs/{org['id']}/members/{user.id}?role=organizer", headers=admin.headers
    )
    assert response.status_code == 204, response.text
    assert (await client.get(url, headers=user.headers)).status_code == 404


async def test_change_behind_the_apps_back_arrives_by_notify(client, factory, postgres_only):
    """An operator's SQL (no service call in this process) still drops the cached grants."""
    org = await factory.org()
    user = await factory.user("organizer", org["id"])
    url = f"/api/orgs/{org['id']}/modules"
    assert (await client.get(url, headers=user.headers)).status_code == 200
    await db.execute("DELETE FROM role_assignment WHERE user_id = {}", user.id)

    async def refused() -> bool:
        return (await client.get(url, headers=user.headers)).status_code == 404

    assert await eventually(refused) < 1.0


async def test_module_switched_off_by_sql_arrives_by_notify(client, factory, postgres_only):
    org = await factory.org()
    admin = await factory.user("admin", org["id"])
    response = await client.put(
        f"/api/orgs/{org['id']}/modules/calling", json={"enabled": True}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    url = f"/api/orgs/{org['id']}/calling/assignments"
    assert (await client.get(url, headers=admin.headers)).status_code == 200
    await db.execute("UPDATE org_module SET enabled = {} WHERE org_id = {}", False, org["id"])

    async def disabled() -> bool:
        return (await client.get(url, headers=admin.headers)).status_code == 404

    assert await eventually(disabled) < 1.0


@pytest.fixture
def statements(monkeypatch):
    """The raw SQL statements sent from now on (core's queries on PostgreSQL)."""
    sent: list[str] = []
    original = db._postgres_fetch

    async def recording(engine, sql, args):
        sent.append(sql)
        return await original(engine, sql, args)

    monkeypatch.setattr(db, "_postgres_fetch", recording)
    return sent


async def test_console_layout_is_read_once_and_a_new_name_shows_at_once(
    client, factory, statements, postgres_only
):
    """A console page's frame (the user's name, the unit switcher, the unit, its module
    switches) is read once per process, not on every page a caller clicks through; a name
    changed on the account page, or behind the app's back (another process, an operator's
    SQL), shows on the next page."""
    org = await factory.org("KV Leipzig")
    user = await factory.user("organizer", org["id"])
    await console_login(client, user.email)
    page = f"/app/orgs/{org['id']}/people"
    assert (await client.get(page)).status_code == 200
    statements.clear()
    again = await client.get(page)
    assert again.status_code == 200
    frame = ("FROM orga_user WHERE id", "FROM org_unit WHERE id IN", "FROM org_module")
    assert [sql for sql in statements if any(part in sql for part in frame)] == []

    account = await client.get("/app/account")
    renamed = await client.post(
        "/app/account/name", data={"display_name": "Rosa L.", "_csrf": csrf_of(account.text)}
    )
    assert renamed.status_code == 303
    assert "Rosa L." in (await client.get(page)).text

    await db.execute("UPDATE orga_user SET display_name = {} WHERE id = {}", "Clara Z.", user.id)

    async def renamed_elsewhere() -> bool:
        return "Clara Z." in (await client.get(page)).text

    await eventually(renamed_elsewhere, seconds=5)  # not the 30 s a lifetime alone would take


async def test_touching_last_used_does_not_drop_the_caches(app, client, factory, postgres_only):
    """The once-a-minute ``last_used_at`` write must not empty every cache."""
    user = await factory.user("organizer", (await factory.org())["id"])
    assert (await client.get("/api/me", headers=user.headers)).status_code == 200
    cache = app.state.orga.caches.cache("actor", ())
    generation = cache.generation
    await db.execute(
        "UPDATE auth_token SET last_used_at = last_used_at WHERE id = {}", user.token_id
    )
    await asyncio.sleep(0.2)
    assert cache.generation == generation


async def test_caches_off_while_the_listener_is_down(
    app, client, factory, monkeypatch, postgres_only
):
    """A lost LISTEN connection turns the caches off (no stale reads) until it is back."""
    org = await factory.org()
    user = await factory.user("organizer", org["id"])
    url = f"/api/orgs/{org['id']}/modules"
    caches = app.state.orga.caches
    await client.get(url, headers=user.headers)
    reconnect = caches._listen
    database_down = True

    async def listen_when_back() -> None:
        if database_down:
            raise OSError("connection refused")
        await reconnect()

    monkeypatch.setattr(caches, "_listen", listen_when_back)
    await db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE {}",
        "LISTEN%",
    )

    async def off() -> bool:
        return not caches.enabled

    await eventually(off)
    for _ in range(2):
        with count_queries(monkeypatch) as meanwhile:
            assert (await client.get(url, headers=user.headers)).status_code == 200
        assert meanwhile.count == 3  # nothing served from a cache nobody keeps fresh
    database_down = False

    async def back() -> bool:
        return caches.enabled

    await eventually(back, seconds=5)
    await client.get(url, headers=user.headers)
    with count_queries(monkeypatch) as cached:
        assert (await client.get(url, headers=user.headers)).status_code == 200
    assert cached.count == 0


def test_entries_filled_together_expire_spread_out(monkeypatch):
    """Entries kept in the same moment (every caller's token at the start of a shift) do not
    all expire, and reload, in the same moment: their lifetimes spread over the last quarter
    of the ttl."""
    clock = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    caches = Caches()
    caches.enabled = True
    cache = caches.cache("tokens", ("auth_token",), ttl=40.0)
    for key in range(200):
        cache.put(key, f"actor {key}", cache.generation)
    alive = []
    for seconds in (29.9, 30.0, 35.0, 40.0):
        clock[0] = 1000.0 + seconds
        alive.append(sum(cache.get(key) is not MISSING for key in range(200)))
    assert alive[0] == 200  # none before 3/4 of the ttl
    assert 0 < alive[2] < 200  # some expired between 30 and 35 s, some live on
    assert alive[3] == 0  # none beyond the ttl
