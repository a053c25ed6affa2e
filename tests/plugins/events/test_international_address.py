"""A public event sign-up with an internationalized address (RFC 6531) is answered and its
confirmation mail arrives (it answered 500: the address could not be put in a header)."""

from __future__ import annotations

import pytest

from core import db
from core.jobs.worker import Worker
from tests.plugins.events.conftest import create


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "mail_from": "KV Leipzig <kv@example.org>"}


async def test_sign_up_with_an_internationalized_address(client, setup, app, smtp_sink):
    event = await create(client, setup, capacity=10)
    form = {
        "first_name": "Jörg",
        "last_name": "Müller",
        "email": "jörg.müller@example.org",
        "phone": "",
        "consent": "yes",
        "website": "",
    }
    posted = await client.post(f"/p/events/{setup.org['id']}/{event['id']}/signup", data=form)
    assert posted.status_code == 200, posted.text
    await Worker(app.state.orga.job_handlers(), concurrency=2).drain()
    assert [rcpts for _, rcpts in smtp_sink.envelopes] == [["jörg.müller@example.org"]]
    [mail] = smtp_sink.messages
    assert mail["To"].addresses[0].addr_spec == "jörg.müller@example.org"
    assert await db.fetch("SELECT kind FROM job WHERE last_error IS NOT NULL") == []
