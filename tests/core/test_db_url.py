"""PostgreSQL URLs: host and port, or libpq's ``?host=/socket/dir`` for the Unix socket."""

from __future__ import annotations

import pytest

from core import db
from core.backup import _pg_args


def test_socket_url_names_the_folder_as_host():
    params = db.postgres_params("postgresql://orga:p%40ss@:5433/orga?host=/run/postgresql")
    assert params == {
        "host": "/run/postgresql",
        "port": 5433,
        "user": "orga",
        "password": "p@ss",
        "database": "orga",
    }
    args, env = _pg_args("postgresql://orga:secret@/orga?host=/run/postgresql")
    assert args[:4] == ["--host", "/run/postgresql", "--port", "5432"]
    assert env["PGPASSWORD"] == "secret"


def test_tcp_url():
    params = db.postgres_params("postgresql://orga:secret@db.internal:6432/orga")
    assert (params["host"], params["port"], params["database"]) == ("db.internal", 6432, "orga")


async def test_engine_connects_through_the_unix_socket(orga_template, orga_database_url):
    if orga_template.backend != "postgres":
        pytest.skip("PostgreSQL only")
    name = orga_database_url.rsplit("/", 1)[1]
    engine = db.create_engine(orga_template.server.socket_url_for(name))
    await db.open_engine(engine, pool_size=1)
    try:
        async with engine.pool.acquire() as connection:
            # inet_server_addr() is NULL on a Unix-socket connection
            row = await connection.fetchrow("SELECT inet_server_addr() AS addr, 1 AS one")
    finally:
        await db.close_engine(engine)
    assert row["one"] == 1 and row["addr"] is None
