"""A linksaktiv sign-up with an internationalized address (RFC 6531) gets its confirmation
mail (the job failed on every attempt: the address could not be put in a header)."""

from __future__ import annotations

import pytest

from core import db
from tests.plugins.linksaktiv.conftest import run_jobs
from tests.plugins.linksaktiv.test_signup import JOIN


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "public_url": "http://testserver"}


async def test_sign_up_with_an_internationalized_address(app, client, party, smtp_sink):
    join = JOIN | {"first_name": "Jörg", "last_name": "Müller", "email": "jörg.müller@example.org"}
    response = await client.post("/p/linksaktiv/api/join", json=join)
    assert response.status_code == 202, response.text
    await run_jobs(app)
    assert [rcpts for _, rcpts in smtp_sink.envelopes] == [["jörg.müller@example.org"]]
    [mail] = smtp_sink.messages
    assert "/p/linksaktiv/confirm/" in mail.get_body(("plain",)).get_content()
    assert await db.fetch("SELECT kind FROM job WHERE last_error IS NOT NULL") == []
